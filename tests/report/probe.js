// tests/report/probe.js — injected into a copy of report.html by check_dom.lua:
// measures what the browser actually laid out (bounding boxes and path lengths
// of every chart's elements) and the statistics table, as JSON in a PRE element with id probe.
(function () {
  var out = { charts: {}, stats: {}, noTrades: null };
  var svgs = document.querySelectorAll('svg.chart');
  for (var i = 0; i < svgs.length; i++) {
    var s = svgs[i], r = s.getBoundingClientRect();
    var c = { w: r.width, h: r.height, paths: [], bars: 0, cells: 0, markers: 0, gaps: 0, weekends: 0, labels: [] };
    var ps = s.querySelectorAll('path');
    for (var j = 0; j < ps.length; j++) {
      var b = ps[j].getBBox();
      c.paths.push({ cls: ps[j].getAttribute('class'), len: ps[j].getTotalLength(), w: b.width, h: b.height,
                     d: (ps[j].getAttribute('d') || '').length });
    }
    c.bars = s.querySelectorAll('rect.bar').length;
    c.cells = s.querySelectorAll('rect.cell:not(.empty)').length;
    c.markers = s.querySelectorAll('path.marker').length;
    c.gaps = s.querySelectorAll('line.gap').length;
    c.weekends = s.querySelectorAll('line.gap.weekend').length;
    var ls = s.querySelectorAll('text.xlabel');
    for (var k = 0; k < ls.length; k++) {
      var lb = ls[k].getBBox();
      c.labels.push({ x: lb.x, w: lb.width, text: ls[k].textContent });
    }
    out.charts[s.id] = c;
  }
  var rows = document.querySelectorAll('#stats tr[data-key]');
  for (var n = 0; n < rows.length; n++) out.stats[rows[n].getAttribute('data-key')] = rows[n].querySelector('td').textContent;
  var nt = document.getElementById('no-trades');
  if (nt) out.noTrades = nt.textContent;
  out.tradeRows = document.querySelectorAll('#trades tr').length;
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
