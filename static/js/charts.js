// Draws MLTeam's dashboard charts with Chart.js (served from node_modules).
// Each chart reads its data from a <script type="application/json"> block; the
// table next to it carries the same numbers for screen readers and no-JS use.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  // The status colours are defined once, in mlteam.css (--mlt-status-<status>-strong).
  const rootStyle = getComputedStyle(document.documentElement);
  function colour(name) {
    return rootStyle.getPropertyValue("--mlt-status-" + name + "-strong").trim() || "#6c757d";
  }
  const STATUS_COLOURS = {};
  ["not_started", "in_progress", "in_review", "done", "blocked", "cancelled"].forEach(function (name) {
    STATUS_COLOURS[name] = colour(name);
  });

  function data(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  const status = data("status-chart-data");
  const statusCanvas = document.getElementById("status-chart");
  if (status && statusCanvas) {
    // One bar per project: grow the box with the number of projects.
    statusCanvas.parentElement.style.height = (60 + 32 * status.projects.length) + "px";
    // Long project names are shortened on the axis (the tooltip and the table
    // below have them whole), more so on a phone.
    const longest = statusCanvas.parentElement.clientWidth < 576 ? 14 : 28;
    const shortened = function (value) {
      const name = this.getLabelForValue(value);
      return name.length > longest ? name.slice(0, longest - 1) + "\u2026" : name;
    };
    new Chart(statusCanvas, {
      type: "bar",
      data: {
        labels: status.projects,
        datasets: status.series.map(function (series) {
          return { label: series.label, data: series.counts, backgroundColor: STATUS_COLOURS[series.status] };
        }),
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: { stacked: true, ticks: { precision: 0 } },
          y: { stacked: true, ticks: { callback: shortened } },
        },
      },
    });
  }

  const projectStatus = data("project-status-chart-data");  // [[status, label, count], ...]
  const projectCanvas = document.getElementById("project-status-chart");
  if (projectStatus && projectCanvas) {
    new Chart(projectCanvas, {
      type: "doughnut",
      data: {
        labels: projectStatus.map(function (row) { return row[1]; }),
        datasets: [{
          data: projectStatus.map(function (row) { return row[2]; }),
          backgroundColor: projectStatus.map(function (row) { return STATUS_COLOURS[row[0]]; }),
        }],
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "right" } } },
    });
  }

  const overdue = data("overdue-chart-data");
  const overdueCanvas = document.getElementById("overdue-chart");
  if (overdue && overdueCanvas) {
    new Chart(overdueCanvas, {
      type: "bar",
      data: { labels: overdue.roles, datasets: [{ label: overdue.label, data: overdue.counts, backgroundColor: colour("overdue") }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } }, scales: { y: { ticks: { precision: 0 } } },
      },
    });
  }
})();
