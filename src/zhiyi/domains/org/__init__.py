"""Organisation: campuses, buildings, floors, departments, rooms, practitioners."""
