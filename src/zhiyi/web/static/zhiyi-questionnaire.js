// Pre-consultation questionnaires: FHIR enableWhen skip logic, live, with the same rules as the
// server (domains/preconsult/enablewhen.py), which decides again what is stored. In elderly mode
// the form shows one section a step. Without this script every enabled question is shown.
(function () {
  var form = document.getElementById("preconsult-form");
  if (!form) { return; }
  var items = Array.prototype.slice.call(form.querySelectorAll("[data-link-id]"));
  var byId = {};
  items.forEach(function (el) { byId[el.getAttribute("data-link-id")] = el; });

  function parentOf(el) {
    var p = el.parentElement && el.parentElement.closest("[data-link-id]");
    return p && form.contains(p) ? p : null;
  }

  function parse(type, raw) {
    if (type === "boolean") { return raw === "true" ? true : (raw === "false" ? false : null); }
    if (type === "integer" || type === "decimal") { var n = Number(raw); return isFinite(n) ? n : null; }
    return raw;
  }

  function answers(linkId) {
    var el = byId[linkId];
    if (!el) { return []; }
    var type = el.getAttribute("data-type");
    var out = [];
    Array.prototype.forEach.call(el.querySelectorAll("input, textarea, select"), function (input) {
      if (input.closest("[data-link-id]") !== el) { return; }
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) { return; }
      var raw = (input.value || "").trim();
      if (raw === "") { return; }
      var v = parse(type, raw);
      if (v !== null) { out.push(v); }
    });
    return out;
  }

  function kind(v) {
    if (typeof v === "boolean") { return "boolean"; }
    if (typeof v === "number") { return "number"; }
    return "string";  // codes, text and ISO dates (which compare as text)
  }

  function holds(op, given, expected) {
    if (op === "exists") { return (given.length > 0) === Boolean(expected); }
    if (!given.length) { return false; }  // a follow-up never shows before its question is answered
    var same = given.filter(function (a) { return kind(a) === kind(expected); });
    if (op === "=") { return same.some(function (a) { return a === expected; }); }
    if (op === "!=") { return !same.some(function (a) { return a === expected; }); }
    if (kind(expected) === "boolean") { return false; }
    return same.some(function (a) {
      return op === ">" ? a > expected : op === "<" ? a < expected : op === ">=" ? a >= expected : a <= expected;
    });
  }

  function evaluate() {
    var memo = {};
    function enabled(linkId) {
      if (linkId in memo) { return memo[linkId]; }
      memo[linkId] = false;  // a loop (refused when the questionnaire is loaded) stays disabled
      var el = byId[linkId];
      var parent = el && parentOf(el);
      var result = Boolean(el);
      if (result && parent) { result = enabled(parent.getAttribute("data-link-id")); }
      var raw = el && el.getAttribute("data-enable-when");
      if (result && raw) {
        var results = JSON.parse(raw).map(function (c) {
          return holds(c.op, byId[c.q] && enabled(c.q) ? answers(c.q) : [], c.v);
        });
        result = el.getAttribute("data-enable-behavior") === "any"
          ? results.some(Boolean) : results.every(Boolean);
      }
      memo[linkId] = result;
      return result;
    }
    items.forEach(function (el) {
      if (el.classList.contains("q-prefill")) { return; }
      var on = enabled(el.getAttribute("data-link-id"));
      el.hidden = !on;
      el.setAttribute("aria-hidden", on ? "false" : "true");
    });
  }

  // Elderly mode: one section a step (sections whose questions are all disabled are passed over).
  var stepped = document.body.classList.contains("elderly");
  var sections = Array.prototype.slice.call(form.querySelectorAll("fieldset.q-section"));
  var current = 0;
  var steps = document.getElementById("q-steps");
  var submitBar = document.getElementById("q-submit-bar");
  var submit = document.getElementById("preconsult-submit");
  var progress = document.getElementById("q-progress");

  function visibleSections() { return sections.filter(function (s) { return !s.hidden; }); }

  function showStep() {
    if (!stepped || !sections.length) { return; }
    var shown = visibleSections();
    if (current >= shown.length) { current = shown.length - 1; }
    if (current < 0) { current = 0; }
    sections.forEach(function (s) { s.classList.toggle("q-off-step", s !== shown[current]); });
    steps.hidden = false;
    document.getElementById("q-prev").disabled = current === 0;
    document.getElementById("q-next").hidden = current >= shown.length - 1;
    submit.hidden = current < shown.length - 1;
    progress.textContent = progress.getAttribute("data-template")
      .replace("{n}", String(current + 1)).replace("{t}", String(shown.length));
    form.setAttribute("data-step", String(current + 1));
  }

  function move(delta) {
    current += delta;
    showStep();
    var shown = visibleSections();
    if (shown[current]) { shown[current].scrollIntoView({block: "start"}); }
  }

  form.addEventListener("change", function () { evaluate(); showStep(); });
  form.addEventListener("input", function () { evaluate(); showStep(); });
  if (stepped) {
    document.getElementById("q-prev").addEventListener("click", function () { move(-1); });
    document.getElementById("q-next").addEventListener("click", function () { move(1); });
    var wrong = form.querySelector("[data-error]");
    var section = wrong && wrong.closest("fieldset.q-section");
    evaluate();
    if (section) { current = Math.max(0, visibleSections().indexOf(section)); }
    showStep();
  } else {
    evaluate();
  }
  submitBar.hidden = false;
  form.setAttribute("data-live", "1");
})();
