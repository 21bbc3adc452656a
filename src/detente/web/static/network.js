// Network page: hovering a state highlights its ties and dims the rest. Optional: the
// page works without it (each state is a link, each tie has a tooltip).
(function () {
  const svg = document.querySelector("svg.network");
  if (!svg) return;
  const edges = Array.from(svg.querySelectorAll("line.edge"));
  function show(id) {
    svg.classList.toggle("dim", Boolean(id));
    for (const e of edges) {
      e.classList.toggle("hl", Boolean(id) && (e.dataset.a === id || e.dataset.b === id));
    }
  }
  svg.querySelectorAll("g.node").forEach(function (g) {
    g.addEventListener("mouseenter", function () { show(g.dataset.id); });
    g.addEventListener("mouseleave", function () { show(svg.dataset.focus || null); });
    g.addEventListener("focusin", function () { show(g.dataset.id); });
  });
  show(svg.dataset.focus || null);
})();
