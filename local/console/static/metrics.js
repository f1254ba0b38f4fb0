/* global document, Chart */
// stepline console: the metrics page's charts, drawn by Chart.js (served beside this file) from each canvas's
// data-labels and data-values (JSON the server wrote; null where a bucket has no data). Served as a file: the
// page's Content-Security-Policy admits no inline script.
'use strict';

function drawCharts() {
  for (const canvas of document.querySelectorAll('canvas.metric-chart')) {
    const labels = JSON.parse(canvas.dataset.labels);
    const values = JSON.parse(canvas.dataset.values);
    new Chart(canvas, {
      type: 'line',
      data: { labels, datasets: [{ label: canvas.dataset.title, data: values, spanGaps: true, tension: 0.2 }] },
      options: { animation: false, responsive: false, plugins: { legend: { display: false } } },
    });
  }
  document.body.dataset.charts = String(document.querySelectorAll('canvas.metric-chart').length);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', drawCharts);
else drawCharts();
