// The report form's live banner: the combination of the header's and every paragraph's
// marking, asked of the server (the one rule, detente.core.markings.combine) as you choose.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var out = document.getElementById("live-banner");
  var problem = document.getElementById("banner-error");
  var pending = 0;
  function update() {
    var params = new URLSearchParams();
    form.querySelectorAll(".portion-marking").forEach(function (el) { params.append("m", el.value); });
    var ticket = ++pending;
    fetch("/intel/banner?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (ticket !== pending) { return; }
        if (data.banner) { out.textContent = data.banner; problem.textContent = ""; }
        else { problem.textContent = data.error || ""; }
      });
  }
  form.addEventListener("change", function (e) {
    if (e.target.classList.contains("portion-marking")) { update(); }
  });
  document.getElementById("add-paragraph").addEventListener("click", function () {
    var all = form.querySelectorAll(".paragraph");
    var copy = all[all.length - 1].cloneNode(true);
    copy.querySelector("textarea").value = "";
    var label = copy.querySelector("label").firstChild;
    label.textContent = "Paragraph " + (all.length + 1) + " marking ";
    document.getElementById("paragraphs").appendChild(copy);
    update();
  });
  update();
}());
