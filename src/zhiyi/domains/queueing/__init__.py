"""Check-in and smart queues: arrival by one-code QR or phone, call next, live positions."""
