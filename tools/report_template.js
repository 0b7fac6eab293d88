/* report_template.js: draws the backtest report from the JSON embedded in
 * the page (element #report-data, format "fraud-backtest-report/1").
 *
 * Design.  No library: every plot is an SVG string built here and set as a
 * container's innerHTML (the HTML parser puts <svg> content in the SVG
 * namespace, so no namespace URL is needed in the page).  One plot frame
 * (plot()) draws axes, grid, legend and the layers it is given; layers are
 * functions of the frame's scales (lines with gaps for null values, stacked
 * bars, hover columns, shaded bands).  Every value read from the data goes
 * through isNum()/obj()/arr(), so missing keys and nulls become gaps or
 * dashes, never exceptions; a section that still fails shows its error and
 * leaves the rest of the page drawn.  Interactive state (hidden series, the
 * histogram's scale) lives in the chart objects; a click re-renders that
 * chart only.  Money is in minor units of EUR (cents).
 *
 * This file is inlined in the page's script element: it must never contain the
 * sequence that closes one, nor an HTML comment opener.  It stays ASCII
 * (non-ASCII characters are written as \u escapes).
 */
(function () {
  'use strict';

  var VIEW_W = 960;
  var DAY_MS = 864e5;
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  var DASH = '\u2013';
  var MINUS = '\u2212';
  var EURO = '\u20ac';
  var NBSP = '\u00a0';
  var COLOR = {
    blue: '#2f6db5', orange: '#d9822b', green: '#3a8f5c', red: '#c0392b', purple: '#7a5ea8',
    grey: '#9aa3ad', slate: '#5b7083', ink: '#1f2328', teal: '#2a8c8c',
    bandModel: '#f4efe2', bandImmature: '#eceff3', served: ['#9dbbe0', '#c7d8ee']
  };

  /* ---- reading the data ---- */

  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function obj(v) { return v && typeof v === 'object' && !Array.isArray(v) ? v : {}; }
  function arr(v) { return Array.isArray(v) ? v : []; }
  function num(o, key) { var v = obj(o)[key]; return isNum(v) ? v : null; }
  function str(o, key) { var v = obj(o)[key]; return typeof v === 'string' ? v : null; }
  function sum(values) {
    var s = 0, any = false;
    values.forEach(function (v) { if (isNum(v)) { s += v; any = true; } });
    return any ? s : null;
  }
  function maxOf(values) {
    var m = null;
    values.forEach(function (v) { if (isNum(v) && (m === null || v > m)) m = v; });
    return m;
  }
  function minOf(values) {
    var m = null;
    values.forEach(function (v) { if (isNum(v) && (m === null || v < m)) m = v; });
    return m;
  }

  /* ---- formatting ---- */

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function group(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function fmtFixed(v, decimals) {
    if (!isNum(v)) return DASH;
    var s = Math.abs(v).toFixed(decimals), parts = s.split('.');
    var neg = v < 0 && Number(s) !== 0;
    return (neg ? MINUS : '') + group(parts[0]) + (parts.length > 1 ? '.' + parts[1] : '');
  }
  function fmtInt(v) { return fmtFixed(v, 0); }
  function fmtMetric(v) { return fmtFixed(v, 3); }
  function fmtPct(v, decimals) {
    return isNum(v) ? fmtFixed(v * 100, decimals === undefined ? 1 : decimals) + NBSP + '%' : DASH;
  }
  /* A small rate (a false-positive rate) with enough digits to be read. */
  function fmtRate(v) {
    if (!isNum(v)) return DASH;
    return fmtPct(v, Math.abs(v) >= 0.1 ? 1 : Math.abs(v) >= 0.01 ? 2 : 3);
  }
  function fmtEur(cents, decimals) {
    if (!isNum(cents)) return DASH;
    var s = fmtFixed(Math.abs(cents) / 100, decimals === undefined ? 2 : decimals);
    return (cents < 0 && s.replace(/[0.,]/g, '') !== '' ? MINUS : '') + EURO + s;
  }
  /* Compact euros for axis ticks: EUR 12.5k, EUR 1.2M. */
  function fmtEurShort(cents) {
    if (!isNum(cents)) return DASH;
    var e = Math.abs(cents) / 100, sign = cents < 0 ? MINUS : '', s;
    if (e >= 1e6) s = trimZero((e / 1e6).toFixed(e >= 1e7 ? 0 : 1)) + 'M';
    else if (e >= 1e3) s = trimZero((e / 1e3).toFixed(e >= 1e4 ? 0 : 1)) + 'k';
    else s = trimZero(e.toFixed(e >= 10 ? 0 : 1));
    return sign + EURO + s;
  }
  function trimZero(s) { return s.indexOf('.') >= 0 ? s.replace(/\.?0+$/, '') : s; }
  function fmtCount(v) {
    if (!isNum(v)) return DASH;
    var a = Math.abs(v);
    if (a >= 1e6) return trimZero((v / 1e6).toFixed(1)) + 'M';
    if (a >= 1e4) return trimZero((v / 1e3).toFixed(0)) + 'k';
    if (a >= 1e3) return trimZero((v / 1e3).toFixed(1)) + 'k';
    return trimZero(v.toFixed(a >= 10 || a === 0 ? 0 : 2));
  }
  /* Percent ticks with as many decimals as their step needs. */
  function fmtPctTick(v, step) {
    return fmtPct(v, Math.max(0, Math.ceil(-Math.log10(step * 100) - 1e-9)));
  }
  function fmtSeconds(v) {
    if (!isNum(v)) return DASH;
    if (v >= 3600) return fmtFixed(v / 3600, 1) + ' h';
    if (v >= 120) return fmtFixed(v / 60, 1) + ' min';
    return fmtFixed(v, v >= 10 ? 1 : 2) + ' s';
  }

  /* ---- dates: day numbers (days since 1970-01-01, UTC) ---- */

  function dayNum(s) {
    if (typeof s !== 'string') return null;
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?/.exec(s);
    if (!m) return null;
    var t = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), 0);
    return (t + (m[6] ? parseFloat(m[6]) * 1000 : 0)) / DAY_MS;
  }
  function dateOf(n) { return new Date(Math.floor(n) * DAY_MS); }
  function pad2(v) { return v < 10 ? '0' + v : String(v); }
  function isoDay(n) {
    var d = dateOf(n);
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
  }
  function dayLabel(n) {
    var d = dateOf(n);
    return WEEKDAYS[d.getUTCDay()] + ' ' + isoDay(n);
  }
  function fmtTime(s) {
    if (typeof s !== 'string' || s === '') return DASH;
    return s.replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, ' UTC');
  }

  /* A time for a table cell: the date alone at midnight, else to the minute (UTC). */
  function fmtTimeShort(s) {
    if (typeof s !== 'string' || s === '') return DASH;
    var m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?)?/.exec(s);
    if (!m) return s;
    return !m[2] || (m[2] === '00:00' && (!m[3] || Number(m[3].slice(1)) === 0)) ? m[1] : m[1] + ' ' + m[2];
  }

  /* ---- SVG strings ---- */

  function r1(v) { return Math.round(v * 10) / 10; }
  function el(name, attrs, content) {
    var s = '<' + name;
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v !== null && v !== undefined) s += ' ' + k + '="' + esc(typeof v === 'number' ? r1(v) : v) + '"';
    });
    return content === undefined ? s + '/>' : s + '>' + content + '</' + name + '>';
  }
  function tip(text) { return el('title', {}, esc(text)); }
  function text(x, y, content, attrs) {
    var a = {x: x, y: y};
    Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
    return el('text', a, esc(content));
  }

  /* ---- scales and ticks ---- */

  function linearScale(d0, d1, r0, r1_) {
    var k = (r1_ - r0) / ((d1 - d0) || 1);
    return function (v) { return r0 + (v - d0) * k; };
  }
  function logScale(d0, d1, r0, r1_) {
    var l0 = Math.log10(d0), k = (r1_ - r0) / ((Math.log10(d1) - l0) || 1);
    return function (v) { return r0 + (Math.log10(Math.max(v, d0)) - l0) * k; };
  }
  function niceStep(span, n) {
    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
  }
  function niceMax(v, n) {
    if (!isNum(v) || v <= 0) return 1;
    var step = niceStep(v, n || 5);
    return Math.ceil(v / step - 1e-9) * step;
  }
  function linearTicks(d0, d1, n) {
    var step = niceStep(d1 - d0 || 1, n || 5), out = [];
    for (var i = Math.ceil(d0 / step - 1e-9); i * step <= d1 + step * 1e-9; i++)
      out.push(Number((i * step).toPrecision(12)));
    return out;
  }
  function logTicks(d0, d1) {
    var out = [];
    for (var e = Math.ceil(Math.log10(d0) - 1e-9); Math.pow(10, e) <= d1 * (1 + 1e-9); e++)
      out.push(Math.pow(10, e));
    return out;
  }
  /* Ticks of a day-number axis: months over long spans, Mondays or days over short ones. */
  function timeTicks(d0, d1) {
    var span = d1 - d0, out = [], first = dateOf(Math.ceil(d0));
    if (span > 75) {
      var y = first.getUTCFullYear(), m = first.getUTCMonth(), every = span > 600 ? 3 : 1;
      for (;;) {
        var t = Date.UTC(y, m, 1) / DAY_MS;
        if (t > d1) break;
        if (t >= d0 && m % every === 0)
          out.push({v: t, label: MONTHS[m] + (m === 0 || out.length === 0 ? ' ' + y : '')});
        if (++m === 12) { m = 0; y++; }
      }
      return out;
    }
    var step = span > 20 ? 7 : span > 10 ? 2 : 1;
    for (var n = Math.ceil(d0); n <= d1; n++) {
      if (step === 7 && dateOf(n).getUTCDay() !== 1) continue;
      if (step === 2 && (n - Math.ceil(d0)) % 2 !== 0) continue;
      var d = dateOf(n);
      out.push({v: n, label: MONTHS[d.getUTCMonth()] + ' ' + d.getUTCDate()});
    }
    return out;
  }

  /* ---- the plot frame ---- */

  /* axis: {min, max, log, fmt, label, color, ticks: [values] or [{v, label}]} */
  function axisTicks(axis) {
    if (axis.ticks) return axis.ticks.map(function (t) { return isNum(t) ? {v: t, label: axis.fmt(t)} : t; });
    var vs = axis.log ? logTicks(axis.min, axis.max) : linearTicks(axis.min, axis.max, axis.n || 5);
    var step = vs.length > 1 ? vs[1] - vs[0] : 1;
    return vs.map(function (v) { return {v: v, label: (axis.fmt || fmtCount)(v, step)}; });
  }
  function yAxis(p, axis, scale, right) {
    var s = '', x = right ? p.R : p.L;
    axisTicks(axis).forEach(function (t) {
      var y = scale(t.v);
      if (!right) s += el('line', {class: 'grid-line', x1: p.L, x2: p.R, y1: y, y2: y, stroke: '#e8ecf0'});
      s += el('line', {x1: x, x2: x + (right ? 4 : -4), y1: y, y2: y, stroke: '#8c959f'});
      s += text(x + (right ? 7 : -7), y + 4, t.label,
                {'text-anchor': right ? 'start' : 'end', 'font-size': 12});
    });
    if (axis.label) {
      var mid = (p.T + p.B) / 2, lx = right ? VIEW_W - 10 : 12;
      s += text(0, 0, axis.label, {'text-anchor': 'middle', 'font-size': 12, class: 'axis-label',
        transform: 'translate(' + lx + ',' + r1(mid) + ') rotate(' + (right ? 90 : -90) + ')',
        style: axis.color ? 'fill:' + axis.color : null});
    }
    return s + el('line', {x1: x, x2: x, y1: p.T, y2: p.B, stroke: '#8c959f'});
  }
  function xAxis(p, axis) {
    var s = el('line', {x1: p.L, x2: p.R, y1: p.B, y2: p.B, stroke: '#8c959f'});
    var ticks = axis.time ? timeTicks(axis.min, axis.max) : axisTicks(axis);
    ticks.forEach(function (t) {
      var x = p.x(t.v);
      s += el('line', {x1: x, x2: x, y1: p.B, y2: p.B + 4, stroke: '#8c959f'});
      s += text(x, p.B + 17, t.label, {'text-anchor': 'middle', 'font-size': 12});
    });
    if (axis.label)
      s += text((p.L + p.R) / 2, p.B + 34, axis.label, {'text-anchor': 'middle', 'font-size': 12, class: 'axis-label'});
    return s;
  }
  /* legend items: {label, color, kind: 'line'|'dash'|'box'|'band'|'dot'|'cross', chart, key, off} */
  function legend(items, x0, y) {
    var s = '', x = x0;
    items.forEach(function (it) {
      var g = '';
      if (it.kind === 'line' || it.kind === 'dash')
        g += el('line', {x1: x, x2: x + 18, y1: y - 4, y2: y - 4, stroke: it.color, 'stroke-width': 2.5,
                         'stroke-dasharray': it.kind === 'dash' ? '5 3' : null});
      else if (it.kind === 'dot')
        g += el('circle', {cx: x + 9, cy: y - 4, r: 4.5, fill: it.color});
      else if (it.kind === 'cross')
        g += crossMark(x + 9, y - 4, 4.5, it.color);
      else
        g += el('rect', {x: x + 3, y: y - 10, width: 12, height: 12, fill: it.color,
                         stroke: it.kind === 'band' ? '#c9d1d9' : null});
      g += text(x + 23, y, it.label, {'font-size': 12});
      var w = 36 + it.label.length * 6.7;
      s += it.key ? el('g', {class: 'toggle' + (it.off ? ' off' : ''), 'data-chart': it.chart, 'data-key': it.key},
                       tip('click to show or hide') + el('rect', {x: x, y: y - 13, width: w - 8, height: 18, fill: 'transparent'}) + g)
                  : g;
      x += w;
    });
    return s;
  }
  function crossMark(x, y, r, color) {
    return el('path', {d: 'M' + r1(x - r) + ' ' + r1(y - r) + 'L' + r1(x + r) + ' ' + r1(y + r) +
                          'M' + r1(x - r) + ' ' + r1(y + r) + 'L' + r1(x + r) + ' ' + r1(y - r),
                       stroke: color, 'stroke-width': 2.2, fill: 'none'});
  }
  function axisScale(axis, r0, r1_) {
    return axis.log ? logScale(axis.min, axis.max, r0, r1_) : linearScale(axis.min, axis.max, r0, r1_);
  }
  /* spec: {height, margin, x: axis (time: true for day numbers), y, y2, legend, under and layers
   * (drawn before and after the axes), label, empty (true: say there is nothing to plot)} */
  function plot(spec) {
    var H = spec.height || 250, m = spec.margin || {};
    var p = {L: m.l || 66, R: VIEW_W - (m.r || (spec.y2 ? 74 : 16)), T: m.t || (spec.legend ? 30 : 12),
             B: H - (m.b || (spec.x.label ? 44 : 28))};
    p.x = axisScale(spec.x, p.L, p.R);
    p.y = spec.y ? axisScale(spec.y, p.B, p.T) : null;
    p.y2 = spec.y2 ? axisScale(spec.y2, p.B, p.T) : null;
    var body = '';
    (spec.under || []).forEach(function (layer) { body += layer(p); });
    if (spec.y) body += yAxis(p, spec.y, p.y, false);
    if (spec.y2) body += yAxis(p, spec.y2, p.y2, true);
    body += xAxis(p, spec.x);
    (spec.layers || []).forEach(function (layer) { body += layer(p); });
    if (spec.legend) body += legend(spec.legend, p.L, 16);
    if (spec.empty)
      body += text((p.L + p.R) / 2, (p.T + p.B) / 2, 'no values to plot', {'text-anchor': 'middle', 'font-size': 13, class: 'axis-label'});
    return el('svg', {viewBox: '0 0 ' + VIEW_W + ' ' + H, role: 'img', 'aria-label': spec.label || ''}, body);
  }

  /* ---- layers ---- */

  /* points: [{x, y (null: gap), tip}]; o: {color, width, dash, right (y2), step, dots} */
  function lineLayer(points, o) {
    return function (p) {
      var ys = o.right ? p.y2 : p.y, d = '', pen = false, dots = '';
      var dotR = Math.min(o.dotR || 2.2, Math.max(0.9, Math.abs(p.x(1) - p.x(0)) * 0.4)); /* dense: smaller */
      points.forEach(function (pt) {
        if (!isNum(pt.y)) { pen = false; return; }
        var X = r1(p.x(pt.x)), Y = r1(ys(pt.y));
        if (!pen) d += 'M' + X + ' ' + Y;
        else d += o.step ? 'H' + X + 'V' + Y : 'L' + X + ' ' + Y;
        pen = true;
        if (o.dots !== false)
          dots += el('circle', {cx: X, cy: Y, r: dotR, fill: o.color}, pt.tip ? tip(pt.tip) : '');
      });
      if (o.step && o.stepEnd !== undefined && pen)
        d += 'H' + r1(p.x(o.stepEnd));
      return el('path', {d: d, fill: 'none', stroke: o.color, 'stroke-width': o.width || 1.8,
                         'stroke-dasharray': o.dash || null, 'stroke-linejoin': 'round'}) + dots;
    };
  }
  /* A transparent column per day carrying the day's summary as its hover title. */
  function hoverLayer(days, tipOf) {
    return function (p) {
      var s = '';
      days.forEach(function (d) {
        var a = p.x(d.x - 0.5), b = p.x(d.x + 0.5);
        s += el('rect', {class: 'hover', x: a, y: p.T, width: Math.max(b - a, 0.5), height: p.B - p.T}, tip(tipOf(d)));
      });
      return s;
    };
  }
  /* bands: [{from, to, color, label}] in day numbers, inclusive; the label is the hover title. */
  function bandLayer(bands) {
    return function (p) {
      var s = '';
      bands.forEach(function (b) {
        var a = Math.max(p.x(b.from - 0.5), p.L), z = Math.min(p.x(b.to + 0.5), p.R);
        if (z <= a) return;
        s += el('rect', {x: a, y: p.T, width: z - a, height: p.B - p.T, fill: b.color}, tip(b.label));
      });
      return s;
    };
  }
  /* Stacked bars. series: [{key, label, color, values[i]}]; only visible ones stacked. */
  function stackLayer(days, series, tipOf) {
    return function (p) {
      var s = '', w = Math.max((p.x(1) - p.x(0)) * 0.78, 0.8);
      days.forEach(function (d, i) {
        var base = 0, t = tip(tipOf(d));
        series.forEach(function (se) {
          var v = se.values[i];
          if (!isNum(v) || v <= 0) return;
          var y0 = p.y(base), y1 = p.y(base + v);
          s += el('rect', {x: p.x(d.x) - w / 2, y: y1, width: w, height: Math.max(y0 - y1, 0.3), fill: se.color}, t);
          base += v;
        });
      });
      return s;
    };
  }

  /* ---- page structure ---- */

  function section(root, title) {
    var h = document.createElement('h2');
    h.textContent = title;
    root.appendChild(h);
  }
  function block(root, html) {
    var div = document.createElement('div');
    div.innerHTML = html;
    root.appendChild(div);
    return div;
  }
  /* Runs draw() and shows its error in place instead of stopping the page. */
  function guarded(root, what, draw) {
    try {
      draw();
    } catch (e) {
      block(root, '<p class="error">Could not draw ' + esc(what) + ': ' + esc(e && e.message ? e.message : e) + '</p>');
    }
  }

  var charts = {};
  /* A figure whose SVG is render(chart) and re-rendered on clicks. */
  function figure(root, c) {
    var fig = document.createElement('figure');
    fig.innerHTML = '<h3>' + esc(c.title) + '</h3>' + (c.controls ? '<div class="controls">' + c.controls + '</div>' : '') +
                    '<div class="plot"></div><figcaption>' + c.caption + '</figcaption>';
    root.appendChild(fig);
    c.hidden = c.hidden || {};
    c.box = fig.querySelector('.plot');
    c.fig = fig;
    charts[c.id] = c;
    redraw(c);
  }
  function redraw(c) {
    try {
      c.box.innerHTML = c.render(c);
    } catch (e) {
      c.box.innerHTML = '<p class="error">Could not draw this plot: ' + esc(e && e.message ? e.message : e) + '</p>';
    }
    if (c.fig)
      Array.prototype.forEach.call(c.fig.querySelectorAll('.controls button'), function (b) {
        b.setAttribute('aria-pressed', b.getAttribute('data-mode') === c.mode ? 'true' : 'false');
      });
  }
  function noData(what) { return '<p class="nodata">No ' + esc(what) + ' in this report.</p>'; }

  document.addEventListener('click', function (ev) {
    var t = ev.target.closest ? ev.target.closest('[data-chart]') : null;
    if (!t) return;
    var c = charts[t.getAttribute('data-chart')];
    if (!c) return;
    if (t.hasAttribute('data-key')) {
      var k = t.getAttribute('data-key');
      c.hidden[k] = !c.hidden[k];
    } else if (t.hasAttribute('data-mode')) {
      c.mode = t.getAttribute('data-mode');
    }
    redraw(c);
  });

  function kvTable(title, rows) {
    if (!rows.length) return '';
    var body = rows.map(function (r) {
      return '<tr><th>' + esc(r[0]) + '</th><td>' + r[1] + '</td></tr>';
    }).join('');
    return '<div><h3>' + esc(title) + '</h3><table class="kv"><tbody>' + body + '</tbody></table></div>';
  }
  /* Rows for the known keys of o ([key, label, formatter returning HTML, or null for no row]), then
   * any other scalar keys as they are. */
  function knownRows(o, known) {
    var rows = [], seen = {};
    known.forEach(function (k) {
      seen[k[0]] = true;
      var html = k[0] in o ? k[2](o[k[0]], o) : null;
      if (html !== null) rows.push([k[1], html]);
    });
    Object.keys(o).forEach(function (k) {
      var v = o[k];
      if (!seen[k] && (v === null || typeof v !== 'object'))
        rows.push([k, isNum(v) ? esc(fmtFixed(v, Number.isInteger(v) ? 0 : 3)) : esc(v === null ? DASH : String(v))]);
    });
    return rows;
  }
  function card(label, value, sub) {
    return '<div class="card"><div class="label">' + esc(label) + '</div><div class="value">' + esc(value) +
           '</div>' + (sub ? '<div class="sub">' + esc(sub) + '</div>' : '') + '</div>';
  }

  /* ---- the report ---- */

  function readReport() {
    var node = document.getElementById('report-data');
    return JSON.parse(node ? node.textContent : '');
  }

  /* The per-day rows, sorted, with their day number; rows without a day are dropped. */
  function readDays(report) {
    return arr(report.days).map(function (d) { return {raw: obj(d), x: dayNum(obj(d).day)}; })
      .filter(function (d) { return d.x !== null; })
      .sort(function (a, b) { return a.x - b.x; });
  }

  /* Runs of consecutive days for which pred holds, as bands. */
  function runs(days, pred, color, label) {
    var out = [], cur = null;
    days.forEach(function (d) {
      if (pred(d)) {
        if (cur && d.x - cur.to <= 1.01) cur.to = d.x;
        else out.push(cur = {from: d.x, to: d.x, color: color, label: label});
      } else {
        cur = null;
      }
    });
    return out;
  }
  function noModel(d) {
    var v = d.raw.model_version;
    return v === '' || v === null;
  }
  function immature(d) {
    return num(d.raw, 'evaluated') === 0 && (num(d.raw, 'transactions') || 0) > 0;
  }
  function contextBands(days) {
    return runs(days, noModel, COLOR.bandModel, 'no model: rules only')
      .concat(runs(days, immature, COLOR.bandImmature, 'labels not mature'));
  }
  function contextLegend(days) {
    var out = [];
    if (days.some(noModel)) out.push({label: 'no model yet', color: COLOR.bandModel, kind: 'band'});
    if (days.some(immature)) out.push({label: 'labels not mature', color: COLOR.bandImmature, kind: 'band'});
    return out;
  }
  function timeAxis(days) {
    return {time: true, min: days[0].x - 0.5, max: days[days.length - 1].x + 0.5};
  }
  function dayTip(d, lines) {
    var r = d.raw, head = dayLabel(d.x);
    var ctx = 'transactions ' + fmtInt(num(r, 'transactions')) + ', evaluated ' + fmtInt(num(r, 'evaluated')) +
              ', frauds ' + fmtInt(num(r, 'frauds'));
    var model = typeof r.model_version === 'string' ? (r.model_version || 'none (rules only)') : DASH;
    return head + '\n' + lines.join('\n') + '\n' + ctx + '\nmodel: ' + model;
  }
  /* true when no day has a number under any of keys. */
  function noValues(days, keys) {
    return !days.some(function (d) { return keys.some(function (k) { return num(d.raw, k) !== null; }); });
  }
  function points(days, key, label, fmt) {
    return days.map(function (d) {
      var v = num(d.raw, key);
      return {x: d.x, y: v, tip: d.raw.day + ': ' + label + ' ' + fmt(v)};
    });
  }

  function drawHeader(root, R) {
    var input = obj(R.input), title = str(R, 'title') || 'Backtest report';
    document.title = title;
    var parts = [];
    if (str(input, 'transactions')) parts.push('transactions ' + input.transactions);
    if (str(input, 'chargebacks')) parts.push('chargebacks ' + input.chargebacks);
    if (str(input, 'first_event') || str(input, 'last_event'))
      parts.push('events ' + fmtTime(input.first_event) + ' ' + DASH + ' ' + fmtTime(input.last_event));
    block(root, '<h1>' + esc(title) + '</h1><p class="subtitle">' + esc(parts.join(' \u00b7 ')) +
                (str(R, 'format') && R.format !== 'fraud-backtest-report/1'
                  ? '<br>Unexpected format "' + esc(R.format) + '": some parts may be missing.' : '') + '</p>');
  }

  function drawMaturityNote(root, R) {
    var t = obj(R.totals), s = obj(R.settings);
    var evaluated = num(t, 'evaluated'), scored = num(t, 'scored');
    if (scored === null) scored = num(t, 'transactions');
    if (evaluated === null || scored === null) return;
    var mat = num(s, 'eval_maturity_days');
    if (mat === null) mat = num(s, 'label_maturity_days');
    block(root, '<p class="note">Metrics on a day are computed only on labels mature by the end of the run: ' +
                esc(fmtInt(evaluated)) + ' of ' + esc(fmtInt(scored)) + ' transactions (' +
                esc(fmtPct(scored > 0 ? evaluated / scored : null)) + ')' +
                (num(t, 'not_evaluated_immature') !== null ? '; ' + esc(fmtInt(t.not_evaluated_immature)) +
                 ' were too recent' + (mat !== null ? ' (less than ' + esc(fmtInt(mat)) + ' days before the last event)' : '') : '') +
                '. A transaction counts as fraud when its chargeback arrived before the end of the run.</p>');
  }

  function drawOverall(root, R) {
    var o = obj(R.overall), k = num(R.settings, 'precision_at_k');
    if (!Object.keys(o).length) return;
    section(root, 'Overall');
    block(root, '<div class="cards">' +
      card('AUC-ROC', fmtMetric(num(o, 'auc_roc')), 'ranking, 0.5 = random') +
      card('Average precision', fmtMetric(num(o, 'average_precision')), 'area under precision-recall') +
      card('Card precision@' + (k === null ? 'k' : fmtInt(k)), fmtMetric(num(o, 'card_precision_at_k')), 'mean over days') +
      card('Recall', fmtPct(num(o, 'recall')), 'frauds caught at the threshold') +
      card('False-positive rate', fmtRate(num(o, 'false_positive_rate')), 'legitimate payments flagged') +
      card('Money saved', fmtEur(num(o, 'money_saved'), 0), 'under the cost model') +
      card('Frauds evaluated', fmtInt(num(o, 'frauds')), 'of ' + fmtInt(num(o, 'evaluated')) + ' evaluated') +
      '</div>');
  }

  function drawTables(root, R) {
    var s = obj(R.settings), t = obj(R.totals), input = obj(R.input);
    var asInt = function (v) { return esc(fmtInt(v)); };
    var asDays = function (v) { return isNum(v) ? esc(fmtInt(v) + NBSP + 'd') : DASH; };
    var asEur = function (v) { return esc(fmtEur(v)); };
    var asText = function (v) { return v === null || v === undefined ? DASH : esc(String(v)); };
    var asPath = function (v) { return '<span class="path">' + asText(v) + '</span>'; };
    var html =
      kvTable('Input', knownRows(input, [['transactions', 'Transactions', asPath], ['chargebacks', 'Chargebacks', asPath],
        ['first_event', 'First event', function (v) { return esc(fmtTime(v)); }],
        ['last_event', 'Last event', function (v) { return esc(fmtTime(v)); }]])) +
      kvTable('Settings', knownRows(s, [['label_maturity_days', 'Label maturity', asDays],
        ['evaluation_gap_days', 'Evaluation gap', asDays], ['precision_at_k', 'k of card precision@k', asInt],
        ['cost_false_positive', 'Cost of a false positive', asEur],
        ['cost_false_negative', 'Cost of a missed fraud', function (v, o) {
          return o.cost_fn_is_amount === true ? 'its amount <span class="muted">(else ' + asEur(v) + ')</span>' : asEur(v); }],
        ['cost_fn_is_amount', 'Missed fraud costs its amount', function (v, o) {
          return 'cost_false_negative' in o ? null : v ? 'yes' : 'no'; }],
        ['retrain', 'Retraining', asText], ['warmup_days', 'Warm-up before first model', asDays],
        ['eval_maturity_days', 'Evaluated: payments older than', asDays]])) +
      kvTable('Transactions', knownRows(pickKeys(t, ['transactions', 'rejected', 'duplicates', 'scored', 'chargebacks',
          'evaluated', 'not_evaluated_immature', 'frauds_evaluated']), [['transactions', 'Read', asInt],
        ['rejected', 'Rejected (invalid)', asInt], ['duplicates', 'Duplicates', asInt], ['scored', 'Scored', asInt],
        ['chargebacks', 'Chargebacks', asInt], ['evaluated', 'Evaluated (mature labels)', asInt],
        ['not_evaluated_immature', 'Not evaluated (too recent)', asInt], ['frauds_evaluated', 'Frauds among evaluated', asInt]])) +
      kvTable('Speed and retraining', knownRows(omitKeys(t, ['transactions', 'rejected', 'duplicates', 'scored', 'chargebacks',
          'evaluated', 'not_evaluated_immature', 'frauds_evaluated']), [['elapsed_sec', 'Elapsed', function (v) { return esc(fmtSeconds(v)); }],
        ['tx_per_sec', 'Transactions per second', asInt], ['tx_per_sec_without_training', 'Per second, training excluded', asInt], ['labels', 'Labels emitted', asInt], ['train_sec', 'Training time', function (v) { return esc(fmtSeconds(v)); }],
        ['rounds', 'Training rounds', asInt], ['promoted', 'Models promoted', asInt],
        ['rejected_models', 'Models rejected by the gate', asInt], ['skipped_days', 'Days without training', asInt]]));
    if (!html) return;
    section(root, 'Run');
    block(root, '<div class="tables">' + html + '</div>');
  }
  function pickKeys(o, keys) {
    var out = {};
    keys.forEach(function (k) { if (k in o) out[k] = o[k]; });
    return out;
  }
  function omitKeys(o, keys) {
    var out = {};
    Object.keys(o).forEach(function (k) { if (keys.indexOf(k) < 0) out[k] = o[k]; });
    return out;
  }

  /* ---- per-day plots ---- */

  function drawQuality(root, days) {
    figure(root, {id: 'quality', title: 'Ranking quality per day',
      caption: 'AUC-ROC (the chance that a random fraud scores above a random legitimate payment; 0.5 is ' +
               'random) and average precision (the area under the precision-recall curve; its floor is the ' +
               'day\u2019s fraud rate, so it is the harder and more telling of the two) on each day\u2019s evaluated ' +
               'transactions. Gaps: days without a fraud or without mature labels. Hover a point for its value.',
      render: function () {
        return plot({label: 'AUC-ROC and average precision per day', x: timeAxis(days),
          empty: noValues(days, ['auc_roc', 'average_precision']),
          y: {min: 0, max: 1, fmt: function (v) { return v.toFixed(1); }, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1]},
          legend: [{label: 'AUC-ROC', color: COLOR.blue, kind: 'line'},
                   {label: 'average precision', color: COLOR.orange, kind: 'line'}].concat(contextLegend(days)),
          under: [bandLayer(contextBands(days)), hoverLayer(days, function (d) {
            return dayTip(d, ['AUC-ROC ' + fmtMetric(num(d.raw, 'auc_roc')),
                              'average precision ' + fmtMetric(num(d.raw, 'average_precision'))]); })],
          layers: [lineLayer(points(days, 'auc_roc', 'AUC-ROC', fmtMetric), {color: COLOR.blue}),
                   lineLayer(points(days, 'average_precision', 'average precision', fmtMetric), {color: COLOR.orange})]});
      }});
  }

  function drawCardPrecision(root, days, R) {
    var k = num(R.settings, 'precision_at_k'), ks = k === null ? 'k' : fmtInt(k);
    figure(root, {id: 'cardprec', title: 'Card precision@' + ks + ' per day',
      caption: 'Of the ' + ks + ' cards with the highest scores each day (the ones an investigation team could ' +
               'check), the share that had a fraud that day. On days with fewer than ' + ks + ' fraudulent cards ' +
               'its ceiling is below 1. Gaps: days without mature labels.',
      render: function () {
        var top = niceMax(Math.min(1, (maxOf(days.map(function (d) { return num(d.raw, 'card_precision_at_k'); })) || 0.1) * 1.1), 5);
        return plot({label: 'Card precision at k per day', height: 220, x: timeAxis(days),
          empty: noValues(days, ['card_precision_at_k']),
          y: {min: 0, max: Math.min(top, 1), fmt: function (v) { return trimZero(v.toFixed(2)); }},
          legend: [{label: 'card precision@' + ks, color: COLOR.teal, kind: 'line'}].concat(contextLegend(days)),
          under: [bandLayer(contextBands(days)), hoverLayer(days, function (d) {
            return dayTip(d, ['card precision@' + ks + ' ' + fmtMetric(num(d.raw, 'card_precision_at_k'))]); })],
          layers: [lineLayer(points(days, 'card_precision_at_k', 'card precision@' + ks, fmtMetric), {color: COLOR.teal})]});
      }});
  }

  function drawRecallFpr(root, days) {
    var tipOf = function (d) {
      return dayTip(d, ['recall ' + fmtPct(num(d.raw, 'recall')), 'false-positive rate ' + fmtRate(num(d.raw, 'false_positive_rate'))]);
    };
    figure(root, {id: 'recallfpr', title: 'Recall and false-positive rate at the operating threshold',
      caption: 'Top: recall, the share of the day\u2019s frauds that the decisions blocked (the operating threshold: a review is not counted). ' +
               'Bottom: false-positive rate, the share of legitimate payments blocked, on its own scale because ' +
               'it is small: a false-positive rate of 0.5 % on 100,000 payments a day is 500 customers ' +
               'inconvenienced. Read the two together: a threshold that raises one raises the other.',
      render: function () {
        var fmax = niceMax((maxOf(days.map(function (d) { return num(d.raw, 'false_positive_rate'); })) || 0.001) * 1.1, 4);
        var bands = bandLayer(contextBands(days));
        return plot({label: 'Recall per day', height: 190, x: timeAxis(days), empty: noValues(days, ['recall']),
            y: {min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1], fmt: function (v) { return fmtPct(v, 0); }, label: 'recall'},
            legend: [{label: 'recall', color: COLOR.green, kind: 'line'}].concat(contextLegend(days)),
            under: [bands, hoverLayer(days, tipOf)],
            layers: [lineLayer(points(days, 'recall', 'recall', fmtPct), {color: COLOR.green})]}) +
          plot({label: 'False-positive rate per day', height: 170, x: timeAxis(days),
            empty: noValues(days, ['false_positive_rate']),
            y: {min: 0, max: fmax, n: 4, fmt: fmtPctTick, label: 'false-positive rate'},
            legend: [{label: 'false-positive rate', color: COLOR.red, kind: 'line'}],
            under: [bands, hoverLayer(days, tipOf)],
            layers: [lineLayer(points(days, 'false_positive_rate', 'false-positive rate', fmtRate), {color: COLOR.red})]});
      }});
  }

  /* Axis bounds around values and zero, on nice steps. */
  function moneyAxis(values, label, color) {
    var lo = Math.min(0, minOf(values) || 0), hi = Math.max(0, maxOf(values) || 0);
    var step = niceStep((hi - lo) || 100000, 5);
    return {min: Math.floor(lo / step) * step, max: Math.ceil(hi / step) * step || step, fmt: fmtEurShort,
            label: label, color: color};
  }
  /* Stretches a and b (both spanning zero) so that zero is at the same height on both. */
  function alignZero(a, b) {
    var f = Math.max(-a.min / (a.max - a.min), -b.min / (b.max - b.min));
    if (!(f < 1)) return;
    [a, b].forEach(function (ax) { ax.min = Math.min(ax.min, -f * ax.max / (1 - f)); });
  }
  function moneyBars(days, daily, tipOf) {
    return function (p) {
      var out = '', w = Math.max((p.x(1) - p.x(0)) * 0.78, 0.8), zero = p.y(0);
      days.forEach(function (d, i) {
        if (!isNum(daily[i]) || daily[i] === 0) return;
        var y = p.y(daily[i]);
        out += el('rect', {x: p.x(d.x) - w / 2, y: Math.min(y, zero), width: w, height: Math.max(Math.abs(zero - y), 0.3),
                           fill: daily[i] >= 0 ? COLOR.green : COLOR.red, 'fill-opacity': 0.75}, tip(tipOf(d, i)));
      });
      return out + el('line', {x1: p.L, x2: p.R, y1: zero, y2: zero, stroke: '#8c959f'});
    };
  }
  function drawMoney(root, days, R) {
    var s = obj(R.settings), fn = s.cost_fn_is_amount === true ? 'the payment\u2019s amount' : fmtEur(num(s, 'cost_false_negative'));
    figure(root, {id: 'money', title: 'Money saved per day',
      caption: 'Bars: money saved each day under the cost model' + (num(s, 'cost_false_positive') !== null
               ? ' (a false positive costs ' + esc(fmtEur(num(s, 'cost_false_positive'))) + ', a missed fraud ' + esc(fn) + ')' : '') +
               ', compared with allowing every payment; a bar below zero is a day on which the decisions cost ' +
               'more than they saved. Line (right axis, same zero): the running total since the first day. ' +
               'Days without mature labels have no figure.',
      render: function () {
        var daily = days.map(function (d) { return num(d.raw, 'money_saved'); }), acc = 0;
        var cum = days.map(function (d, i) { if (!isNum(daily[i])) return null; acc += daily[i]; return acc; });
        var y = moneyAxis(daily, 'per day', COLOR.green), y2 = moneyAxis(cum, 'cumulative', COLOR.blue);
        var tipOf = function (d, i) { return dayTip(d, ['saved ' + fmtEur(daily[i]), 'since the first day ' + fmtEur(cum[i])]); };
        alignZero(y, y2);
        return plot({label: 'Money saved per day', height: 250, x: timeAxis(days), y: y, y2: y2,
          empty: noValues(days, ['money_saved']),
          legend: [{label: 'saved per day', color: COLOR.green, kind: 'box'}, {label: 'cost more than saved', color: COLOR.red, kind: 'box'},
                   {label: 'cumulative (right axis)', color: COLOR.blue, kind: 'line'}].concat(contextLegend(days)),
          under: [bandLayer(contextBands(days)), hoverLayer(days, function (d) { return tipOf(d, days.indexOf(d)); })],
          layers: [moneyBars(days, daily, tipOf), lineLayer(days.map(function (d, i) {
            return {x: d.x, y: cum[i], tip: d.raw.day + ': since the first day ' + fmtEur(cum[i])};
          }), {color: COLOR.blue, right: true, dotR: 1.6})]});
      }});
  }

  /* A stacked-bar figure of per-day counts, with legend toggles. */
  function stackedFigure(root, days, c) {
    figure(root, {id: c.id, title: c.title, caption: c.caption, hidden: c.hidden, render: function (chart) {
      var series = c.series.map(function (se) {
        return {key: se.key, label: se.label, color: se.color,
                values: days.map(function (d) { return num(obj(d.raw[c.field]), se.key); })};
      });
      var shown = series.filter(function (se) { return !chart.hidden[se.key]; });
      var totals = days.map(function (d, i) { return sum(shown.map(function (se) { return se.values[i]; })); });
      var extra = c.line ? days.map(function (d) { return num(d.raw, c.line.key); }) : [];
      var lineShown = c.line && !chart.hidden[c.line.key];
      var top = niceMax(Math.max(maxOf(totals) || 0, lineShown ? maxOf(extra) || 0 : 0) || 1, 5);
      var tipOf = function (d) {
        var i = days.indexOf(d), all = sum(series.map(function (se) { return se.values[i]; }));
        return dayTip(d, series.map(function (se) {
          var v = se.values[i];
          return se.label + ' ' + fmtInt(v) + (isNum(v) && all ? ' (' + fmtPct(v / all) + ')' : '');
        }).concat(c.line ? [c.line.label + ' ' + fmtInt(extra[i])] : []));
      };
      var legendItems = series.map(function (se) {
        return {label: se.label, color: se.color, kind: 'box', chart: c.id, key: se.key, off: !!chart.hidden[se.key]};
      });
      if (c.line) legendItems.push({label: c.line.label, color: c.line.color, kind: 'dash', chart: c.id, key: c.line.key, off: !lineShown});
      return plot({label: c.title, height: 240, x: timeAxis(days), y: {min: 0, max: top, fmt: fmtCount, label: 'decisions'},
        empty: maxOf(totals) === null && !(lineShown && maxOf(extra) !== null),
        legend: legendItems, under: [hoverLayer(days, tipOf)],
        layers: [stackLayer(days, shown, tipOf)].concat(lineShown ? [lineLayer(days.map(function (d, i) {
          return {x: d.x, y: extra[i] > 0 ? extra[i] : null, tip: d.raw.day + ': ' + c.line.label + ' ' + fmtInt(extra[i])};
        }), {color: c.line.color, dash: '5 3', dotR: 2.6})] : [])});
    }});
  }

  function drawDecisions(root, days) {
    stackedFigure(root, days, {id: 'stages', title: 'Decisions by cascade stage', field: 'stages',
      series: [{key: 'rules', label: 'rules', color: COLOR.grey}, {key: 'gbdt', label: 'GBDT', color: COLOR.blue},
               {key: 'neural', label: 'neural', color: COLOR.purple}],
      line: {key: 'degraded', label: 'degraded', color: COLOR.orange},
      caption: 'Which stage of the cascade took each day\u2019s decisions: the rules decide the obvious cases, the ' +
               'GBDT scores the rest, the neural model re-scores the ambiguous band. Orange dots (dashed between ' +
               'consecutive days) count decisions taken in degraded mode: a model was missing, e.g. before the ' +
               'first one was trained, and an earlier stage decided instead. ' +
               'Click a legend entry to hide or show it.'});
    stackedFigure(root, days, {id: 'outcomes', title: 'Decisions by outcome', field: 'decisions',
      series: [{key: 'allow', label: 'allow', color: '#a9c9b4'}, {key: 'review', label: 'review', color: COLOR.orange},
               {key: 'block', label: 'block', color: COLOR.red}],
      caption: 'Decisions per day: allow, review (sent to an analyst) and block. Allow is nearly all of them; click ' +
               '\u201callow\u201d in the legend to hide it and see review and block at their own scale (the page opens ' +
               'that way). Hover a bar for the day\u2019s counts and shares.', hidden: {allow: true}});
  }

  function drawLatency(root, days) {
    var get = function (d, k) { return num(obj(d.raw.latency_usec), k); };
    if (!days.some(function (d) { return get(d, 'p50') !== null || get(d, 'p99') !== null; })) return;
    figure(root, {id: 'latency', title: 'Decision latency per day',
      caption: 'Time the decision path (rules, then the models the transaction reached) took per transaction, ' +
               'median and 99th percentile of each day, in microseconds, as measured by the backtest on its ' +
               'own machine (one core). The 10 \u00b5s line is the budget for the median.',
      render: function () {
        var top = niceMax(Math.max(maxOf(days.map(function (d) { return get(d, 'p99'); })) || 0, 10) * 1.05, 5);
        var pts = function (k) {
          return days.map(function (d) { var v = get(d, k); return {x: d.x, y: v, tip: d.raw.day + ': ' + k + ' ' + fmtFixed(v, 1) + ' \u00b5s'}; });
        };
        return plot({label: 'Decision latency per day', height: 210, x: timeAxis(days),
          y: {min: 0, max: top, fmt: function (v) { return trimZero(v.toFixed(1)); }, label: '\u00b5s'},
          legend: [{label: 'p50', color: COLOR.blue, kind: 'line'}, {label: 'p99', color: COLOR.purple, kind: 'line'},
                   {label: 'p50 budget', color: COLOR.grey, kind: 'dash'}],
          under: [hoverLayer(days, function (d) {
            return dayTip(d, ['p50 ' + fmtFixed(get(d, 'p50'), 1) + ' \u00b5s', 'p99 ' + fmtFixed(get(d, 'p99'), 1) + ' \u00b5s']); })],
          layers: [function (p) {
            return el('line', {x1: p.L, x2: p.R, y1: p.y(10), y2: p.y(10), stroke: COLOR.grey, 'stroke-dasharray': '5 3'});
          }, lineLayer(pts('p50'), {color: COLOR.blue, dotR: 1.6}), lineLayer(pts('p99'), {color: COLOR.purple, dotR: 1.6})]});
      }});
  }

  /* ---- models ---- */

  /* Models are placed at their label cutoff, a time: day d's bar spans d - 0.5 .. d + 0.5, so
   * a time t is at dayNum(t) - 0.5 (midnight at the left edge of its day). */
  function readModels(R) {
    return arr(R.models).map(function (m) {
      m = obj(m);
      return {raw: m, version: str(m, 'version') || '?', status: str(m, 'status') || '',
              x: isNum(dayNum(m.label_cutoff)) ? dayNum(m.label_cutoff) - 0.5 : null,
              promoted: m.promoted === true || m.status === 'champion'};
    }).sort(function (a, b) { return (a.x || 0) - (b.x || 0) || (a.version < b.version ? -1 : 1); });
  }
  function modelTip(m) {
    var r = m.raw;
    return m.version + ' (' + (m.status || 'unknown status') + (m.promoted ? ', promoted' : '') + ')\n' +
           'label cutoff ' + fmtTime(r.label_cutoff) + '\n' +
           'holdout average precision ' + fmtMetric(num(r, 'average_precision')) + ', AUC-ROC ' + fmtMetric(num(r, 'auc_roc')) + '\n' +
           'trained on ' + fmtInt(num(r, 'train_rows')) + ' rows' +
           (str(r, 'served_from') ? '\nserved from ' + fmtTime(r.served_from) + ', ' + fmtInt(num(r, 'served_transactions')) + ' transactions' : '') +
           (str(r, 'reason') ? '\n' + r.reason : '');
  }
  /* Runs of days served by one version, for the timeline's band. */
  function servedRuns(days) {
    var out = [], cur = null;
    days.forEach(function (d) {
      var v = typeof d.raw.model_version === 'string' ? d.raw.model_version : null;
      if (cur && cur.version === v && d.x - cur.to <= 1.01) { cur.to = d.x; cur.n += num(d.raw, 'transactions') || 0; return; }
      out.push(cur = {version: v, from: d.x, to: d.x, n: num(d.raw, 'transactions') || 0});
    });
    return out;
  }
  function servedBandLayer(days) {
    return function (p) {
      var s = text(p.L - 8, 46, 'served', {'text-anchor': 'end', 'font-size': 12, class: 'axis-label'}), shade = 0;
      servedRuns(days).forEach(function (r) {
        var a = p.x(r.from - 0.5), z = p.x(r.to + 0.5), none = !r.version;
        var fill = r.version === null ? '#ffffff' : none ? COLOR.bandModel : COLOR.served[shade++ % 2];
        var label = r.version === null ? 'unknown' : none ? 'rules only' : r.version;
        s += el('rect', {x: a, y: 32, width: Math.max(z - a, 0.5), height: 22, fill: fill, stroke: '#ffffff', 'stroke-width': 0.5},
                tip(label + '\n' + isoDay(r.from) + ' ' + DASH + ' ' + isoDay(r.to) + ', ' + fmtInt(r.n) + ' transactions'));
        if (z - a > label.length * 6.3 + 6)
          s += text((a + z) / 2, 47, label, {'text-anchor': 'middle', 'font-size': 11, style: 'pointer-events:none'});
      });
      return s;
    };
  }
  function modelMarkersLayer(models) {
    return function (p) {
      var s = '';
      models.forEach(function (m) {
        if (m.x === null) return;
        var ap = num(m.raw, 'average_precision'), X = p.x(m.x), Y = ap === null ? p.B - 6 : p.y(ap);
        if (X < p.L - 1 || X > p.R + 1) return;
        var mark = m.promoted ? el('circle', {cx: X, cy: Y, r: 4.5, fill: COLOR.blue, stroke: '#fff', 'stroke-width': 1})
                              : crossMark(X, Y, 3.8, COLOR.red) + el('circle', {cx: X, cy: Y, r: 6, fill: 'transparent'});
        s += el('g', {}, tip(modelTip(m)) + mark);
      });
      return s;
    };
  }
  function drawModelTimeline(root, days, R) {
    var models = readModels(R);
    if (!days.length && !models.length) return;
    figure(root, {id: 'models', title: 'Model versions over time',
      caption: 'Top band: the model version that served each day (alternating shades; hover for its dates and ' +
               'volume; \u201crules only\u201d before the first model). Below: every model trained, placed at its label ' +
               'cutoff and its average precision on the holdout: blue dots were promoted through the quality gate, ' +
               'red crosses rejected. Hover a marker for the version, the gate\u2019s reason and its metrics. A model ' +
               'without an average precision sits on the bottom line.',
      render: function () {
        var xs = days.map(function (d) { return d.x; }).concat(models.map(function (m) { return m.x; }).filter(isNum));
        var lo = Math.floor(minOf(xs)), hi = Math.floor(maxOf(xs));
        var aps = models.map(function (m) { return num(m.raw, 'average_precision'); });
        var ymin = Math.max(0, Math.floor(((minOf(aps) === null ? 0 : minOf(aps)) - 0.05) * 10) / 10);
        var ymax = Math.min(1, Math.ceil(((maxOf(aps) === null ? 1 : maxOf(aps)) + 0.05) * 10) / 10);
        if (ymax <= ymin) ymax = Math.min(1, ymin + 0.1);
        return plot({label: 'Model versions over time', height: 290, margin: {t: 66}, x: {time: true, min: lo - 0.5, max: hi + 0.5},
          y: {min: ymin, max: ymax, n: 4, fmt: function (v) { return v.toFixed(2); }, label: 'holdout AP'},
          legend: [{label: 'promoted', color: COLOR.blue, kind: 'dot'}, {label: 'rejected by the gate', color: COLOR.red, kind: 'cross'}],
          layers: [servedBandLayer(days), modelMarkersLayer(models)]});
      }});
  }
  function drawModelTable(root, R) {
    var models = readModels(R);
    section(root, 'Models');
    if (!models.length) { block(root, noData('models')); return; }
    var rows = models.map(function (m) {
      var r = m.raw, cls = /^[a-z]+$/.test(m.status) ? m.status : '';
      return '<tr><td class="nowrap">' + esc(m.version) + '</td><td class="nowrap">' + esc(fmtTimeShort(r.label_cutoff)) +
             '</td><td><span class="pill ' + cls + '">' +
             esc(m.status || DASH) + '</span></td><td class="num">' + esc(fmtMetric(num(r, 'average_precision'))) +
             '</td><td class="num">' + esc(fmtMetric(num(r, 'auc_roc'))) + '</td><td class="num">' + esc(fmtInt(num(r, 'train_rows'))) +
             '</td><td class="nowrap">' + esc(fmtTimeShort(r.served_from)) + '</td><td class="num">' +
             esc(fmtInt(num(r, 'served_transactions'))) +
             '</td><td class="reason">' + esc(str(r, 'reason') || '') + '</td></tr>';
    }).join('');
    var promoted = models.filter(function (m) { return m.promoted; }).length;
    block(root, '<p class="muted">' + esc(fmtInt(models.length)) + ' models trained, ' + esc(fmtInt(promoted)) +
                ' promoted. Average precision and AUC-ROC are on each model\u2019s own holdout (the days after its label cutoff).</p>' +
                '<div class="scroll"><table class="wide"><thead><tr><th>Version</th><th>Label cutoff</th><th>Status</th>' +
                '<th class="num">AP</th><th class="num">AUC-ROC</th><th class="num">Train rows</th><th>Served from</th>' +
                '<th class="num">Served tx</th><th>Reason</th></tr></thead><tbody>' + rows + '</tbody></table></div>');
  }

  /* ---- distributions ---- */

  function drawHistogram(root, R) {
    var h = obj(R.score_histogram), edges = arr(h.edges).filter(isNum), fraud = arr(h.fraud), legit = arr(h.legit);
    var n = Math.min(edges.length - 1, Math.max(fraud.length, legit.length));
    if (n < 1) return;
    var ft = sum(fraud) || 0, lt = sum(legit) || 0;
    if (ft + lt <= 0) return;
    var ratio = ft > 0 && lt > 0 ? ' (here about ' + fmtInt(lt / ft) + ' to 1)' : '';
    figure(root, {id: 'hist', title: 'Score distribution', mode: 'log',
      controls: 'Scale: <button data-chart="hist" data-mode="log">log counts</button>' +
                '<button data-chart="hist" data-mode="linear">linear counts</button>' +
                '<button data-chart="hist" data-mode="share">share of each class</button>',
      caption: 'How the model scored evaluated transactions, in bins of the score, frauds (red) beside legitimate ' +
               'payments (grey). Legitimate payments outnumber frauds' + esc(ratio) + ', hence a logarithmic count ' +
               'scale; \u201cshare of each class\u201d shows each as a share of its own total, to compare the shapes. ' +
               'A good model puts the red to the right and the grey to the left; the overlap is where the errors are.',
      render: function (c) { return histogramSvg(edges, fraud, legit, n, ft, lt, c.mode); }});
  }
  function histogramSvg(edges, fraud, legit, n, ft, lt, mode) {
    var val = function (a, i, total) {
      var v = isNum(a[i]) ? a[i] : 0;
      return mode === 'share' ? (total > 0 ? v / total : 0) : v;
    };
    var all = [];
    for (var i = 0; i < n; i++) all.push(val(fraud, i, ft), val(legit, i, lt));
    var top = maxOf(all) || 1, pos = all.filter(function (v) { return v > 0; });
    var y = mode === 'log'
      ? {log: true, min: Math.pow(10, Math.floor(Math.log10(minOf(pos) || 1))), max: Math.pow(10, Math.ceil(Math.log10(top))), fmt: fmtCount, label: 'transactions'}
      : {min: 0, max: niceMax(top, 5), fmt: mode === 'share' ? function (v) { return fmtPct(v, 0); } : fmtCount,
         label: mode === 'share' ? 'share of class' : 'transactions'};
    if (y.log && y.max <= y.min) y.max = y.min * 10;
    return plot({label: 'Score distribution', height: 260, x: {min: edges[0], max: edges[n], label: 'score',
        fmt: function (v) { return trimZero(v.toFixed(2)); }, n: 10},
      y: y, legend: [{label: 'fraud', color: COLOR.red, kind: 'box'}, {label: 'legitimate', color: COLOR.slate, kind: 'box'}],
      layers: [function (p) {
        var s = '';
        for (var i = 0; i < n; i++) {
          var a = p.x(edges[i]), z = p.x(edges[i + 1]), w = (z - a) * 0.42;
          var t = tip('score ' + edges[i] + DASH + edges[i + 1] + '\nfraud ' + fmtInt(fraud[i]) + ' (' + fmtPct(ft ? (fraud[i] || 0) / ft : null) +
                      ' of frauds)\nlegitimate ' + fmtInt(legit[i]) + ' (' + fmtPct(lt ? (legit[i] || 0) / lt : null, 2) + ' of legitimate)');
          [[val(legit, i, lt), COLOR.slate, a + (z - a) * 0.07], [val(fraud, i, ft), COLOR.red, a + (z - a) * 0.51]].forEach(function (b) {
            if (!(b[0] > 0)) return;
            var top_ = p.y(b[0]);
            s += el('rect', {x: b[2], y: top_, width: w, height: Math.max(p.B - top_, 0.5), fill: b[1], 'fill-opacity': 0.85}, t);
          });
        }
        return s;
      }]});
  }

  function drawLabelArrival(root, R) {
    var la = obj(R.label_arrival), xs = arr(la.days), ys = arr(la.share), pts = [];
    for (var i = 0; i < Math.min(xs.length, ys.length); i++)
      if (isNum(xs[i])) pts.push({x: xs[i], y: isNum(ys[i]) ? ys[i] : null});
    if (pts.length < 1) return;
    var mat = num(R.settings, 'label_maturity_days'), at = function (day) {
      var v = null;
      pts.forEach(function (p) { if (p.x <= day && isNum(p.y)) v = p.y; });
      return v;
    };
    var marks = [7, 30, 60, 90];
    if (mat !== null && marks.indexOf(mat) < 0) marks.push(mat);
    var xmax = Math.max(maxOf(pts.map(function (p) { return p.x; })), 1);
    pts.forEach(function (p) { p.tip = 'after ' + p.x + ' days: ' + fmtPct(p.y) + ' of chargebacks known'; });
    var atMat = mat !== null ? at(mat) : null;
    figure(root, {id: 'arrival', title: 'Label arrival',
      caption: 'Share of the ' + esc(fmtInt(num(la, 'chargebacks'))) + ' chargebacks of this run that had arrived N days after ' +
               'their transaction. ' + (atMat !== null ? 'At the label maturity of ' + esc(fmtInt(mat)) + ' days only ' +
               esc(fmtPct(atMat, 0)) + ' are known: a payment without a chargeback by then is provisionally labelled ' +
               'legitimate, so the most recent training labels miss the other ' + esc(fmtPct(1 - atMat, 0)) + ' of those frauds. ' : '') +
               'The value at N days is the share a model trained with labels N days old would see.',
      render: function () {
        return plot({label: 'Label arrival', height: 250, x: {min: 0, max: xmax, label: 'days after the transaction',
            ticks: linearTicks(0, xmax, 8), fmt: function (v) { return String(v); }},
          y: {min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1], fmt: function (v) { return fmtPct(v, 0); }, label: 'share known'},
          layers: [function (p) {
            var s = '';
            marks.filter(function (d) { return d <= xmax; }).forEach(function (d) {
              var v = at(d), X = p.x(d);
              s += el('line', {x1: X, x2: X, y1: p.T, y2: p.B, stroke: d === mat ? COLOR.orange : '#b8c0c8', 'stroke-dasharray': '4 3'});
              s += text(X + 4, isNum(v) ? Math.min(Math.max(p.y(v) + 16, p.T + 12), p.B - 6) : p.B - 6,
                        d + ' d: ' + fmtPct(v, 0) + (d === mat ? ' (maturity)' : ''), {'font-size': 12, style: d === mat ? 'fill:' + COLOR.orange : null});
            });
            return s;
          }, lineLayer(pts, {color: COLOR.blue, step: true, dotR: 1.4, width: 2})]});
      }});
  }

  /* ---- the per-day table ---- */

  function drawDayTable(root, days) {
    if (!days.length) return;
    var rows = days.map(function (d) {
      var r = d.raw, dec = obj(r.decisions), st = obj(r.stages);
      var cells = [fmtInt(num(r, 'transactions')), fmtInt(num(r, 'evaluated')), fmtInt(num(r, 'frauds')),
                   fmtMetric(num(r, 'auc_roc')), fmtMetric(num(r, 'average_precision')), fmtMetric(num(r, 'card_precision_at_k')),
                   fmtPct(num(r, 'recall')), fmtRate(num(r, 'false_positive_rate')), fmtEur(num(r, 'money_saved'), 0),
                   fmtInt(num(dec, 'review')), fmtInt(num(dec, 'block')), fmtInt(num(st, 'gbdt')), fmtInt(num(st, 'neural'))];
      return '<tr><td class="nowrap">' + esc(r.day) + '</td>' + cells.map(function (c) { return '<td class="num">' + esc(c) + '</td>'; }).join('') +
             '<td class="nowrap">' + esc(typeof r.model_version === 'string' ? r.model_version || 'rules only' : DASH) + '</td></tr>';
    }).join('');
    var head = ['Day', 'Tx', 'Evaluated', 'Frauds', 'AUC', 'AP', 'Card P@k', 'Recall', 'FPR', 'Saved', 'Review', 'Block',
                'GBDT', 'Neural', 'Model'];
    block(root, '<details><summary>All ' + esc(fmtInt(days.length)) + ' days as a table</summary><div class="scroll">' +
                '<table class="wide"><thead><tr>' + head.map(function (h, i) {
                  return '<th' + (i > 0 && i < head.length - 1 ? ' class="num"' : '') + '>' + esc(h) + '</th>';
                }).join('') + '</tr></thead><tbody>' + rows + '</tbody></table></div></details>');
  }

  function drawPerDay(root, R) {
    var days = readDays(R);
    section(root, 'Per day');
    if (!days.length) { block(root, noData('per-day figures')); return days; }
    [drawQuality, drawCardPrecision, drawRecallFpr, drawMoney, drawDecisions, drawLatency].forEach(function (f) {
      guarded(root, 'a per-day plot', function () { f(root, days, R); });
    });
    guarded(root, 'the per-day table', function () { drawDayTable(root, days); });
    return days;
  }

  function main() {
    var root = document.getElementById('report'), R;
    try {
      R = obj(readReport());
    } catch (e) {
      block(root, '<h1>Backtest report</h1><p class="error">The report data in this page is not valid JSON (' +
                  esc(e.message) + '). The raw data is in the page source, element "report-data".</p>');
      return;
    }
    guarded(root, 'the header', function () { drawHeader(root, R); });
    guarded(root, 'the maturity note', function () { drawMaturityNote(root, R); });
    guarded(root, 'the overall figures', function () { drawOverall(root, R); });
    guarded(root, 'the run tables', function () { drawTables(root, R); });
    var days = drawPerDay(root, R);
    section(root, 'Models and labels');
    guarded(root, 'the model timeline', function () { drawModelTimeline(root, days, R); });
    guarded(root, 'the score distribution', function () { drawHistogram(root, R); });
    guarded(root, 'the label arrival', function () { drawLabelArrival(root, R); });
    guarded(root, 'the models table', function () { drawModelTable(root, R); });
    block(root, '<footer>Written by fraudctl backtest. This page is self-contained: it loads nothing from the ' +
                'network, and its data is embedded in its source (element \u201creport-data\u201d).</footer>');
  }

  main();
})();
