// Draws each dashboard chart with ECharts from the JSON next to it; the table under it holds the same numbers.
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }
  var palette = ["#1f5f99", "#c0392b", "#2e8b57", "#d68910", "#7d3c98", "#148f77", "#5d6d7e", "#a04000",
                 "#2874a6", "#b03a2e", "#1e8449", "#9a7d0a"];

  function option(spec) {
    var categories = spec.rows.map(function (row) { return row[0]; });
    var horizontal = spec.kind === "hbar";
    var series = spec.series.map(function (index) {
      return {
        name: spec.columns[index],
        type: spec.kind === "line" ? "line" : "bar",
        stack: spec.kind === "stacked" ? "all" : undefined,
        data: spec.rows.map(function (row) { return row[index]; }),
        connectNulls: true
      };
    });
    // whole steps on a count axis: ten topics with one proposal each read 0, 1, not 0.2, 0.4, ...
    var valueAxis = {type: "value", minInterval: spec.percent ? undefined : 1,
                     axisLabel: {formatter: spec.percent ? "{value}%" : "{value}"}};
    var categoryAxis = {type: "category", data: categories, inverse: horizontal,
                        // topics' keywords wrap onto a second line rather than being cut
                        axisLabel: horizontal ? {width: 150, overflow: "break", lineHeight: 14}
                                              : {width: 90, overflow: "truncate"}};
    return {
      color: palette,
      animation: false,
      aria: {enabled: true},
      tooltip: {trigger: "axis", renderMode: "richText"},
      legend: series.length > 1 ? {type: "scroll", top: 0} : undefined,
      grid: {left: 8, right: 16, top: series.length > 1 ? 32 : 12, bottom: 24, containLabel: true},
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: series
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) { return; }
    var chart = echarts.init(element, null, {renderer: "canvas"});
    chart.setOption(option(JSON.parse(source.textContent)));
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
