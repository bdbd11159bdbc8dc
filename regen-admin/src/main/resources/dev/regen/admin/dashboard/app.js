// Regen dashboard. Plain JavaScript, no dependencies: the chart is drawn as inline SVG.
// Every change it makes is a POST carrying the session's CSRF token in X-Regen-CSRF.
(function () {
  'use strict';

  var CSRF = document.querySelector('meta[name="regen-csrf"]').content;
  var SVG = 'http://www.w3.org/2000/svg';
  var STATUSES = ['hit', 'stale', 'miss', 'bypass'];
  var PAGE = 200;
  var POLL_MS = 5000;
  var ENTRIES_MS = 15000;

  var state = {
    entries: [],
    cursor: null,
    scanned: 0,
    fetchedAt: 0,
    sort: { key: 'path', asc: true },
    query: { kind: 'prefix', q: '' },
    busy: false,
    ts: null,
    lastEntriesLoad: 0,
    cursorPages: 0
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text != null) { e.textContent = text; }
    return e;
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text != null) { e.textContent = text; }
    return e;
  }

  // ---------------------------------------------------------------- formatting

  function fmtNum(n, digits) {
    if (n == null || isNaN(n)) { return '—'; }
    return n.toLocaleString(undefined, { maximumFractionDigits: digits == null ? 1 : digits });
  }

  function fmtPct(r) {
    if (r == null) { return '—'; }
    var p = r * 100;
    return (p >= 99.95 || p === 0 ? p.toFixed(0) : p >= 10 ? p.toFixed(1) : p.toFixed(2)) + '%';
  }

  function fmtMs(ms) {
    if (ms == null) { return '—'; }
    if (ms < 1) { return '<1 ms'; }
    if (ms < 1000) { return Math.round(ms) + ' ms'; }
    return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }

  /** Shows a formatted figure with its unit ("999 ms", "99.5%", "12 pages") set smaller than the number. */
  function setFigure(id, text) {
    var e = $(id);
    var m = /^(.*\d)(\s*\D.*)$/.exec(text);
    e.textContent = m ? m[1] : text;
    if (m) { e.appendChild(el('span', { 'class': 'kpi-unit' }, m[2])); }
  }

  // paths in natural order: /posts/2 before /posts/10
  var NATURAL = new Intl.Collator(undefined, { numeric: true });

  function fmtBytes(b) {
    if (b == null) { return '—'; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i === 0 ? b : b.toFixed(b < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function fmtDuration(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) { return s + ' s'; }
    if (s < 3600) { return Math.floor(s / 60) + ' min ' + (s % 60 ? (s % 60) + ' s' : ''); }
    if (s < 86400) { return Math.floor(s / 3600) + ' h ' + (Math.floor(s / 60) % 60 ? Math.floor(s / 60) % 60 + ' min' : ''); }
    return Math.floor(s / 86400) + ' d ' + (Math.floor(s / 3600) % 24 ? Math.floor(s / 3600) % 24 + ' h' : '');
  }

  function fmtClock(ms) {
    var d = new Date(ms);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  function fmtClockS(ms) {
    var d = new Date(ms);
    return fmtClock(ms) + ':' + String(d.getSeconds()).padStart(2, '0');
  }

  function ago(iso) {
    var s = (Date.now() - Date.parse(iso)) / 1000;
    if (s < 5) { return 'just now'; }
    return fmtDuration(s).trim() + ' ago';
  }

  // ---------------------------------------------------------------- HTTP

  function api(path, options) {
    var opts = options || {};
    opts.credentials = 'same-origin';
    opts.headers = Object.assign({ 'Accept': 'application/json' }, opts.headers || {});
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) {
        location.href = '/_regen/login';
        throw new Error('signed out');
      }
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok && !(path === '/_regen/health' && body)) {
          var e = new Error((body && body.error) || ('HTTP ' + r.status));
          e.status = r.status;
          throw e;
        }
        return body;
      });
    });
  }

  function revalidate(body) {
    return api('/_regen/api/revalidate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Regen-CSRF': CSRF },
      body: JSON.stringify(body)
    });
  }

  var toastTimer = null;
  function toast(message, bad) {
    var t = $('toast');
    t.textContent = message;
    t.className = 'toast' + (bad ? ' bad' : '');
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  // ---------------------------------------------------------------- chart

  function rates(ts) {
    var n = ts.hit.length;
    var stepS = ts.step;
    var out = [];
    for (var i = 0; i < n; i++) {
      var start = ts.start + i * stepS * 1000;
      // the last bucket is under way: divide by the time it has covered so far
      var secs = i === n - 1 ? Math.max(1, (ts.now - start) / 1000) : stepS;
      var row = { start: start, secs: secs, total: 0 };
      STATUSES.forEach(function (s) { row[s] = ts[s][i] / secs; row.total += row[s]; row[s + 'N'] = ts[s][i]; });
      var cacheable = ts.hit[i] + ts.stale[i] + ts.miss[i];
      row.ratio = cacheable > 0 ? (ts.hit[i] + ts.stale[i]) / cacheable : null;
      row.renders = ts.renders[i];
      row.errors = ts.renderErrors[i];
      out.push(row);
    }
    return out;
  }

  /** A round step for 4 grid intervals that cover v: 1, 2, 2.5 or 5 times a power of ten. */
  function niceStep(v) {
    var raw = v / 4;
    if (raw <= 0) { return 0.25; }
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    var nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
    return nice * p;
  }

  function drawChart(ts) {
    var box = $('chart');
    var W = Math.max(320, box.clientWidth);
    var H = box.clientHeight || 260;
    var pad = { l: 46, r: 42, t: 10, b: 26 };
    var pw = W - pad.l - pad.r;
    var ph = H - pad.t - pad.b;
    var rows = rates(ts);
    var max = 0;
    rows.forEach(function (r) { max = Math.max(max, r.total); });
    var step = niceStep(max * 1.05);
    var yMax = step * 4;
    var root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, 'data-buckets': rows.length });

    var grid = svg('g', { 'class': 'grid' });
    var axis = svg('g', { 'class': 'axis' });
    for (var k = 0; k <= 4; k++) {
      var y = pad.t + ph - (ph * k) / 4;
      grid.appendChild(svg('line', { x1: pad.l, x2: W - pad.r, y1: y, y2: y }));
      var v = (yMax * k) / 4;
      axis.appendChild(svg('text', { x: pad.l - 8, y: y + 4, 'text-anchor': 'end' }, fmtNum(v, 2)));
      axis.appendChild(svg('text', { x: W - pad.r + 8, y: y + 4, 'text-anchor': 'start' }, (25 * k) + '%'));
    }
    axis.appendChild(svg('text', { x: 0, y: 0, transform: 'translate(11,' + (pad.t + ph / 2) + ') rotate(-90)', 'text-anchor': 'middle' }, 'req/s'));
    root.appendChild(grid);

    var bw = pw / rows.length;
    var bars = svg('g', { 'class': 'bars' });
    rows.forEach(function (r, i) {
      var x = pad.l + i * bw + 0.75;
      var w = Math.max(1, bw - 1.5);
      var base = pad.t + ph;
      STATUSES.forEach(function (s) {
        if (r[s] <= 0) { return; }
        var h = (r[s] / yMax) * ph;
        base -= h;
        bars.appendChild(svg('rect', { x: x.toFixed(2), y: base.toFixed(2), width: w.toFixed(2), height: Math.max(0.5, h).toFixed(2), 'class': 's-' + s }));
      });
      if (Math.round(r.start / 1000) % 180 === 0) {
        axis.appendChild(svg('text', { x: x + w / 2, y: H - 6, 'text-anchor': 'middle' }, fmtClock(r.start)));
        grid.appendChild(svg('line', { x1: x + w / 2, x2: x + w / 2, y1: pad.t + ph, y2: pad.t + ph + 4 }));
      }
    });
    root.appendChild(bars);

    // hit ratio: a line on the right axis, broken where there was no cacheable request
    var d = '';
    var dots = svg('g', { 'class': 'ratio-dots' });
    rows.forEach(function (r, i) {
      if (r.ratio == null) { return; }
      var x = pad.l + i * bw + bw / 2;
      var y = pad.t + ph - r.ratio * ph;
      var joined = i > 0 && rows[i - 1].ratio != null;
      d += (joined ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1) + ' ';
      if (!joined && !(i < rows.length - 1 && rows[i + 1].ratio != null)) {
        // a lone point: a dot, since a path of one point draws nothing
        dots.appendChild(svg('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: 3, 'class': 'ratio-dot' }));
      }
    });
    if (d) { root.appendChild(svg('path', { d: d, 'class': 'ratio' })); }
    root.appendChild(dots);
    root.appendChild(axis);

    if (max === 0) {
      root.appendChild(svg('text', { x: pad.l + pw / 2, y: pad.t + ph / 2, 'text-anchor': 'middle', 'class': 'nodata' },
        'No requests in the last 15 minutes'));
    }

    var hover = svg('rect', { x: pad.l, y: pad.t, width: bw, height: ph, 'class': 'hover' });
    root.appendChild(hover);
    var overlay = svg('rect', { x: pad.l, y: pad.t, width: pw, height: ph, fill: 'transparent' });
    root.appendChild(overlay);
    var tip = $('tooltip');
    overlay.addEventListener('mousemove', function (ev) {
      var rect = root.getBoundingClientRect();
      var sx = (ev.clientX - rect.left) * (W / rect.width);
      var i = Math.min(rows.length - 1, Math.max(0, Math.floor((sx - pad.l) / bw)));
      var r = rows[i];
      hover.setAttribute('x', pad.l + i * bw);
      hover.setAttribute('class', 'hover on');
      tip.textContent = '';
      tip.appendChild(el('div', null)).appendChild(el('b', null, fmtClockS(r.start) + ' – ' + fmtClockS(r.start + ts.step * 1000)));
      STATUSES.forEach(function (s) {
        var row = el('div', { 'class': 'row' });
        row.appendChild(el('i', { 'class': 'sw sw-' + s }));
        row.appendChild(document.createTextNode(s.toUpperCase() + ' ' + fmtNum(r[s], 2) + '/s (' + r[s + 'N'] + ')'));
        tip.appendChild(row);
      });
      tip.appendChild(el('div', null, 'hit ratio ' + fmtPct(r.ratio) + ' · renders ' + r.renders + (r.errors ? ' · failed ' + r.errors : '')));
      tip.hidden = false;
      var card = box.parentElement.getBoundingClientRect();
      var left = ev.clientX - card.left + 14;
      if (left + tip.offsetWidth > card.width - 8) { left = ev.clientX - card.left - tip.offsetWidth - 14; }
      tip.style.left = left + 'px';
      tip.style.top = (ev.clientY - card.top + 12) + 'px';
    });
    overlay.addEventListener('mouseleave', function () { tip.hidden = true; hover.setAttribute('class', 'hover'); });

    box.textContent = '';
    box.appendChild(root);
  }

  // ---------------------------------------------------------------- KPIs, stats, errors, health

  function showTimeseries(ts) {
    state.ts = ts;
    drawChart(ts);
    var w = ts.window;
    setFigure('kpi-hit', fmtPct(w.hitRatio));
    $('kpi-hit-bar').style.width = w.hitRatio == null ? '0' : (w.hitRatio * 100).toFixed(1) + '%';
    // requests/s over the last minute (the last 6 buckets, the newest one partial)
    var rows = rates(ts);
    var last = rows.slice(-6);
    var n = 0;
    var secs = 0;
    last.forEach(function (r) { n += r.total * r.secs; secs += r.secs; });
    $('kpi-rps').textContent = fmtNum(secs ? n / secs : 0, 1);
    $('kpi-rps-sub').textContent = 'last minute · ' + fmtNum(w.requests, 0) + ' in 15 min';
    setFigure('kpi-p50', fmtMs(w.renderP50Ms));
    setFigure('kpi-p99', fmtMs(w.renderP99Ms));
    var err = $('kpi-err');
    setFigure('kpi-err', fmtPct(w.originErrorRate));
    err.className = 'kpi-value' + (w.originErrorRate == null ? '' : w.originErrorRate > 0.01 ? ' bad' : ' good');
    $('kpi-err-sub').textContent = fmtNum(w.renderErrors, 0) + ' of ' + fmtNum(w.renders, 0) + ' renders · 15 min';
  }

  function showStats(s) {
    setFigure('kpi-mem', fmtNum(s.memoryEntries, 0) + (s.memoryEntries === 1 ? ' page' : ' pages'));
    $('kpi-mem-sub').textContent = fmtBytes(s.memoryBytes) + ' of heap';
    $('f-inflight').textContent = fmtNum(s.rendersInFlight, 0);
    $('f-queue').textContent = fmtNum(s.backgroundQueueDepth, 0);
    if (s.budget) {
      $('f-budget').textContent = fmtNum(s.budget.inUse, 0) + ' of ' + fmtNum(s.budget.limit, 0)
        + ' (background ' + fmtNum(s.budget.backgroundLimit, 0) + ')';
      $('f-waiting').textContent = fmtNum(s.budget.visitorsWaiting, 0) + ' visitors, '
        + fmtNum(s.budget.backgroundWaiting, 0) + ' background';
      $('f-shed').textContent = fmtNum(s.budget.shed, 0);
    }
    $('f-unchanged').textContent = fmtNum(s.unchangedRenders, 0) + ' (' + fmtNum(s.notModified, 0) + ' answered 304)';
    $('f-renders').textContent = fmtNum(s.renders, 0);
    $('f-invalidations').textContent = fmtNum(s.invalidations, 0);
  }

  function showErrors(data) {
    var list = $('errors');
    list.textContent = '';
    var errors = (data && data.errors) || [];
    errors.forEach(function (e) {
      var li = el('li');
      var head = el('div', { 'class': 'e-head' });
      head.appendChild(el('span', { 'class': 'e-path', title: e.key }, e.path));
      head.appendChild(el('span', { 'class': 'e-time', title: e.at }, ago(e.at)));
      li.appendChild(head);
      li.appendChild(el('div', { 'class': 'e-reason' }, e.reason));
      list.appendChild(li);
    });
    $('errors-empty').hidden = errors.length > 0;
    $('errors-count').textContent = errors.length ? String(errors.length) : '';
  }

  function showHealth(h) {
    ['store', 'origin'].forEach(function (name) {
      var c = h && h[name];
      var chip = $('health-' + name);
      var st = c ? c.status : 'unknown';
      chip.className = 'chip ' + st;
      chip.title = name + ': ' + st + (c && c.detail ? ' — ' + c.detail : '') + (c && c.latencyMs != null ? ' (' + c.latencyMs + ' ms)' : '');
    });
  }

  function setLive(ok) {
    var live = $('live');
    live.className = 'live ' + (ok ? 'on' : 'off');
    $('updated').textContent = ok ? 'live · ' + fmtClockS(Date.now()) : 'cannot reach Regen';
  }

  function poll() {
    return Promise.allSettled([
      api('/_regen/api/timeseries').then(showTimeseries, function (e) {
        if (e.status !== 501) { throw e; }
        // this edge serves no metrics: say so instead of an empty chart
        var box = $('chart');
        box.textContent = '';
        box.appendChild(el('div', { 'class': 'empty' }, e.message));
      }),
      api('/_regen/api/stats').then(showStats),
      api('/_regen/api/errors').then(showErrors),
      api('/_regen/health').then(showHealth)
    ]).then(function (results) {
      var failed = results.filter(function (r) { return r.status === 'rejected'; });
      setLive(failed.length === 0);
      if (Date.now() - state.lastEntriesLoad > ENTRIES_MS && !state.busy && state.cursorPages <= 1) {
        loadEntries(true);
      }
    });
  }

  // ---------------------------------------------------------------- entries

  function entryState(e) {
    if (e.state === 'stale') { return 'stale'; }
    return currentAge(e) >= e.revalidate ? 'stale' : 'fresh';
  }

  function currentAge(e) {
    return e.age + (Date.now() - state.fetchedAt) / 1000;
  }

  function loadEntries(reset) {
    var q = state.query;
    var params = new URLSearchParams();
    params.set('limit', String(PAGE));
    if (q.kind === 'tag' && q.q) {
      params.set('tag', q.q);
    } else {
      params.set('prefix', q.q && q.q.charAt(0) === '/' ? q.q : '/' + (q.q || ''));
    }
    if (!reset && state.cursor) { params.set('cursor', state.cursor); }
    state.lastEntriesLoad = Date.now();
    return api('/_regen/api/entries?' + params.toString()).then(function (data) {
      var now = Date.now();
      if (reset) {
        state.entries = [];
        state.cursorPages = 0;
      } else {
        // keep earlier pages' ages consistent with the new fetch time
        var shift = (now - state.fetchedAt) / 1000;
        state.entries.forEach(function (e) { e.age += shift; });
      }
      state.fetchedAt = now;
      state.entries = state.entries.concat(data.entries);
      state.cursor = data.cursor;
      state.cursorPages = (state.cursorPages || 0) + 1;
      renderEntries();
    }).catch(function (e) {
      if (e.message !== 'signed out') { toast('Could not load entries: ' + e.message, true); }
    });
  }

  function sorted() {
    var list = state.entries.slice();
    var s = state.sort;
    if (!s.key) { return list; }
    list.sort(function (a, b) {
      var c = s.key === 'path' ? NATURAL.compare(a.path, b.path) : a[s.key] < b[s.key] ? -1 : a[s.key] > b[s.key] ? 1 : 0;
      return s.asc ? c : -c;
    });
    return list;
  }

  function renderEntries() {
    var body = $('entries-body');
    body.textContent = '';
    sorted().forEach(function (e) {
      var tr = el('tr', { 'data-path': e.path });
      tr._entry = e;
      var path = el('td', { 'class': 'path', title: e.key });
      path.appendChild(el('a', { href: e.path, target: '_blank', rel: 'noopener' }, e.path));
      tr.appendChild(path);
      var st = entryState(e);
      var badgeCell = el('td');
      badgeCell.appendChild(el('span', { 'class': 'badge ' + st }, st));
      tr.appendChild(badgeCell);
      tr.appendChild(el('td', { 'class': 'num age' }, fmtDuration(currentAge(e))));
      tr.appendChild(el('td', { 'class': 'num' }, fmtDuration(e.revalidate)));
      tr.appendChild(el('td', { 'class': 'num' }, fmtBytes(e.size)));
      var tags = el('td');
      (e.tags || []).forEach(function (t) {
        var chip = el('span', { 'class': 'tag', title: 'Show pages tagged ' + t, 'data-tag': t }, t);
        tags.appendChild(chip);
      });
      tr.appendChild(tags);
      var actions = el('td', { 'class': 'actions' });
      actions.appendChild(el('button', { type: 'button', 'class': 'btn-xs soft', 'data-mode': 'soft',
        title: 'Mark stale: served once more, then re-rendered' }, 'Soft'));
      actions.appendChild(el('button', { type: 'button', 'class': 'btn-xs hard', 'data-mode': 'hard',
        title: 'Delete: the next request renders it' }, 'Hard'));
      tr.appendChild(actions);
      body.appendChild(tr);
    });
    $('entries-empty').hidden = state.entries.length > 0;
    $('more').hidden = !state.cursor;
    $('entries-count').textContent = state.entries.length ? state.entries.length + (state.cursor ? '+' : '') : '';
    var note = state.query.kind === 'tag' && state.query.q ? 'tagged "' + state.query.q + '"'
      : state.query.q ? 'under ' + state.query.q : '';
    $('entries-note').textContent = note ? 'Showing pages ' + note : (state.cursor ? 'Sorted over the pages loaded' : '');
    document.querySelectorAll('th.sortable').forEach(function (th) {
      var on = th.getAttribute('data-sort') === state.sort.key;
      th.className = 'sortable' + (th.classList.contains('num') ? ' num' : '') + (on ? ' sorted' + (state.sort.asc ? ' asc' : '') : '');
    });
  }

  function tickEntries() {
    document.querySelectorAll('#entries-body tr').forEach(function (tr) {
      var e = tr._entry;
      if (!e) { return; }
      tr.querySelector('.age').textContent = fmtDuration(currentAge(e));
      var badge = tr.querySelector('.badge');
      var st = entryState(e);
      if (badge.textContent !== st) {
        badge.textContent = st;
        badge.className = 'badge ' + st;
      }
    });
  }

  function onRowAction(ev) {
    var button = ev.target.closest('button[data-mode]');
    if (button) {
      var tr = button.closest('tr');
      var path = tr.getAttribute('data-path');
      var mode = button.getAttribute('data-mode');
      tr.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
      state.busy = true;
      revalidate({ paths: [path], mode: mode }).then(function (r) {
        toast((mode === 'hard' ? 'Deleted ' : 'Marked stale: ') + path + ' (' + r.invalidated + (r.invalidated === 1 ? ' entry)' : ' entries)'));
        return loadEntries(true).then(function () {
          var row = document.querySelector('#entries-body tr[data-path="' + CSS.escape(path) + '"]');
          if (row) {
            row.classList.add('flash');
            setTimeout(function () { row.classList.remove('flash'); }, 1200);
          }
        });
      }).catch(function (e) {
        toast('Revalidation failed: ' + e.message, true);
        tr.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
      }).then(function () { state.busy = false; });
      return;
    }
    var tag = ev.target.closest('.tag');
    if (tag) {
      $('search-kind').value = 'tag';
      $('search-q').value = tag.getAttribute('data-tag');
      $('tag-input').value = tag.getAttribute('data-tag');
      search();
    }
  }

  function search() {
    state.query = { kind: $('search-kind').value, q: $('search-q').value.trim() };
    return loadEntries(true);
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    $('search').addEventListener('submit', function (ev) { ev.preventDefault(); search(); });
    $('search-kind').addEventListener('change', function () {
      $('search-q').placeholder = $('search-kind').value === 'tag' ? 'posts' : '/blog';
    });
    $('more').addEventListener('click', function () { loadEntries(false); });
    $('entries-body').addEventListener('click', onRowAction);
    document.querySelectorAll('th.sortable').forEach(function (th) {
      th.addEventListener('click', function () {
        var key = th.getAttribute('data-sort');
        if (state.sort.key === key) {
          state.sort.asc = !state.sort.asc;
        } else {
          state.sort = { key: key, asc: key === 'path' };
        }
        renderEntries();
      });
    });
    $('tag-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var tag = $('tag-input').value.trim();
      var mode = document.querySelector('#tag-form input[name="mode"]:checked').value;
      if (!tag) { return; }
      var button = $('tag-submit');
      button.disabled = true;
      revalidate({ tags: [tag], mode: mode }).then(function (r) {
        toast((mode === 'hard' ? 'Deleted ' : 'Marked stale: ') + r.invalidated + (r.invalidated === 1 ? ' page' : ' pages') + ' tagged "' + tag + '"');
        return loadEntries(true);
      }).catch(function (e) {
        toast('Revalidation failed: ' + e.message, true);
      }).then(function () { button.disabled = false; });
    });
    var resizeTimer = null;
    window.addEventListener('resize', function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { if (state.ts) { drawChart(state.ts); } }, 100);
    });
    poll();
    loadEntries(true);
    setInterval(poll, POLL_MS);
    setInterval(tickEntries, 1000);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
