// Speech input where the browser offers it (Web Speech API): the button appears only then,
// and what is heard is added to the complaint box. Nothing is sent anywhere by this script.
(function () {
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  var button = document.getElementById("speak");
  var box = document.getElementById("text");
  if (!Recognition || !button || !box) return;
  button.hidden = false;
  var label = button.textContent;
  button.addEventListener("click", function () {
    var rec = new Recognition();
    rec.lang = button.getAttribute("data-lang") || "zh-CN";
    rec.interimResults = false;
    rec.maxAlternatives = 1;
    button.textContent = button.getAttribute("data-listening");
    button.disabled = true;
    rec.onresult = function (event) {
      var heard = event.results[0][0].transcript;
      box.value = (box.value ? box.value + " " : "") + heard;
    };
    rec.onend = function () { button.textContent = label; button.disabled = false; box.focus(); };
    rec.start();
  });
})();
