/* The lineage graph: a layered layout computed here (rank = the longest
 * path from a source, order within a rank by the barycentre of neighbours,
 * a few sweeps down and up), drawn as SVG with zoom (wheel), pan (drag),
 * click to select a node (its upstream and downstream are highlighted) and
 * colours by last status. */
'use strict';
(function () {
  const NODE_W = 190, NODE_H = 38, COL_GAP = 90, ROW_GAP = 14;
  const COLORS = {
    source: ['#efe7ff', '#7c3aed'], success: ['#e5f6eb', '#17803d'], error: ['#fde8e8', '#c0262d'],
    fail: ['#fde8e8', '#c0262d'], skipped: ['#eef0f3', '#9aa3b0'], never: ['#f4f5f7', '#9aa3b0'],
    running: ['#e3efff', '#1f6feb'], warn: ['#fff4d6', '#9a6700'],
  };
  const SVGNS = 'http://www.w3.org/2000/svg';

  function layout(nodes, edges) {
    const byId = new Map(nodes.map(n => [n.id, { n, parents: [], children: [], rank: 0, order: 0 }]));
    for (const e of edges) {
      const a = byId.get(e.from), b = byId.get(e.to);
      if (a && b) { a.children.push(b); b.parents.push(a); }
    }
    /* ranks: longest path, in topological order (Kahn) */
    const indeg = new Map();
    for (const v of byId.values()) indeg.set(v, v.parents.length);
    const queue = [...byId.values()].filter(v => !v.parents.length);
    while (queue.length) {
      const v = queue.shift();
      for (const c of v.children) {
        c.rank = Math.max(c.rank, v.rank + 1);
        indeg.set(c, indeg.get(c) - 1);
        if (!indeg.get(c)) queue.push(c);
      }
    }
    const ranks = [];
    for (const v of byId.values()) (ranks[v.rank] = ranks[v.rank] || []).push(v);
    for (const r of ranks) if (r) r.sort((a, b) => a.n.name.localeCompare(b.n.name)).forEach((v, i) => { v.order = i; });
    const bary = (v, side) => {
      const ns = v[side];
      return ns.length ? ns.reduce((s, x) => s + x.order, 0) / ns.length : v.order;
    };
    for (let sweep = 0; sweep < 4; sweep++) {
      const down = sweep % 2 === 0;
      const seq = down ? ranks.slice(1) : ranks.slice(0, -1).reverse();
      for (const r of seq) {
        if (!r) continue;
        r.forEach(v => { v.key = bary(v, down ? 'parents' : 'children'); });
        r.sort((a, b) => a.key - b.key).forEach((v, i) => { v.order = i; });
      }
    }
    const tallest = Math.max(1, ...ranks.map(r => (r ? r.length : 0)));
    for (const r of ranks) {
      if (!r) continue;
      const offset = (tallest - r.length) * (NODE_H + ROW_GAP) / 2;
      for (const v of r) {
        v.x = v.rank * (NODE_W + COL_GAP);
        v.y = offset + v.order * (NODE_H + ROW_GAP) + 30;
      }
    }
    return { byId, ranks, width: ranks.length * (NODE_W + COL_GAP), height: tallest * (NODE_H + ROW_GAP) + 40 };
  }

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVGNS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function short(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }

  function render(container, doc, hrefOf) {
    const L = layout(doc.nodes, doc.edges);
    const svg = el('svg', { role: 'img', 'aria-label': 'lineage graph' });
    const world = el('g', {}, svg);
    const edgeG = el('g', {}, world), nodeG = el('g', {}, world), labelG = el('g', {}, world);
    const layerNames = ['sources', 'staging', 'intermediate', 'marts'];
    L.ranks.forEach((r, i) => {
      if (!r) return;
      const layers = new Set(r.map(v => v.n.layer));
      const name = layers.size === 1 ? [...layers][0] : (layerNames[i] || 'rank ' + i);
      const t = el('text', { x: i * (NODE_W + COL_GAP), y: 14, class: 'layer-label' }, labelG);
      t.textContent = name === 'source' ? 'sources' : name;
    });
    const edgeEls = [];
    for (const e of doc.edges) {
      const a = L.byId.get(e.from), b = L.byId.get(e.to);
      if (!a || !b) continue;
      const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2, mx = (x1 + x2) / 2;
      const p = el('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: 'edge' }, edgeG);
      edgeEls.push({ el: p, a, b });
    }
    const nodeEls = new Map();
    for (const v of L.byId.values()) {
      const [fill, stroke] = COLORS[v.n.status] || COLORS.never;
      const g = el('g', { class: 'node', transform: `translate(${v.x},${v.y})`, 'data-id': v.n.id, 'data-name': v.n.name, 'data-status': v.n.status }, nodeG);
      el('rect', { width: NODE_W, height: NODE_H, fill, stroke }, g);
      const t = el('text', { x: 10, y: 16 }, g);
      t.textContent = short(v.n.name, 26);
      const sub = el('text', { x: 10, y: 30, class: 'sub' }, g);
      sub.textContent = (v.n.resource_type === 'source' ? 'source' : (v.n.materialized || v.n.resource_type) + ' · ' + v.n.status) +
        (v.n.rows !== null && v.n.rows !== undefined ? ' · ' + Number(v.n.rows).toLocaleString('en-US') + ' rows' : '');
      const title = el('title', {}, g);
      title.textContent = v.n.id;
      nodeEls.set(v, g);
    }
    container.innerHTML = '';
    container.appendChild(svg);
    const controls = document.createElement('div');
    controls.className = 'lineage-controls';
    controls.innerHTML = '<button class="btn" data-z="in">+</button><button class="btn" data-z="out">−</button><button class="btn" data-z="fit">Fit</button>';
    container.appendChild(controls);
    const legend = document.createElement('div');
    legend.className = 'lineage-legend';
    legend.innerHTML = [['source', 'source'], ['success', 'success'], ['error', 'error'], ['never', 'not run'], ['running', 'running']]
      .map(([k, label]) => '<span><i class="lg-' + k + '"></i>' + label + '</span>').join('');
    container.appendChild(legend);
    const panel = document.createElement('div');
    panel.className = 'lineage-panel';
    panel.hidden = true;
    container.appendChild(panel);

    /* zoom and pan */
    let view = { x: 20, y: 10, k: 1 };
    const apply = () => world.setAttribute('transform', `translate(${view.x},${view.y}) scale(${view.k})`);
    const fit = () => {
      const w = container.clientWidth || 800, h = container.clientHeight || 500;
      const k = Math.min(1.2, Math.max(0.05, Math.min((w - 40) / Math.max(1, L.width), (h - 40) / Math.max(1, L.height))));
      view = { k, x: 20, y: Math.max(10, (h - L.height * k) / 2) };
      apply();
    };
    const zoomAt = (factor, cx, cy) => {
      const k = Math.min(4, Math.max(0.05, view.k * factor));
      view.x = cx - (cx - view.x) * (k / view.k);
      view.y = cy - (cy - view.y) * (k / view.k);
      view.k = k;
      apply();
    };
    svg.addEventListener('wheel', e => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    let drag = null, moved = false;
    svg.addEventListener('pointerdown', e => { drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y }; moved = false; });
    window.addEventListener('pointermove', e => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { moved = true; svg.classList.add('dragging'); }
      view.x = drag.vx + dx;
      view.y = drag.vy + dy;
      apply();
    });
    window.addEventListener('pointerup', () => { drag = null; svg.classList.remove('dragging'); });
    controls.onclick = e => {
      const z = e.target.dataset.z;
      const w = container.clientWidth / 2, h = container.clientHeight / 2;
      if (z === 'in') zoomAt(1.25, w, h);
      else if (z === 'out') zoomAt(0.8, w, h);
      else if (z === 'fit') fit();
    };

    /* select: highlight upstream and downstream */
    const walk = (v, side, seen) => {
      for (const x of v[side]) if (!seen.has(x)) { seen.add(x); walk(x, side, seen); }
      return seen;
    };
    const clear = () => {
      nodeEls.forEach(g => g.classList.remove('dim', 'sel'));
      edgeEls.forEach(e => e.el.classList.remove('dim', 'hl'));
      panel.hidden = true;
    };
    const select = v => {
      const up = walk(v, 'parents', new Set()), down = walk(v, 'children', new Set());
      const keep = new Set([v, ...up, ...down]);
      nodeEls.forEach((g, x) => { g.classList.toggle('dim', !keep.has(x)); g.classList.toggle('sel', x === v); });
      edgeEls.forEach(e => {
        const on = keep.has(e.a) && keep.has(e.b) && ((up.has(e.a) || e.a === v) && (up.has(e.b) || e.b === v) || (down.has(e.b) || e.b === v) && (down.has(e.a) || e.a === v));
        e.el.classList.toggle('hl', on);
        e.el.classList.toggle('dim', !on);
      });
      const href = hrefOf(v.n);
      const esc = s => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
      panel.innerHTML = '<b>' + esc(v.n.name) + '</b><div class="muted small">' + esc(v.n.id) + '</div>' +
        '<p>' + esc(v.n.resource_type) + (v.n.materialized ? ' · ' + esc(v.n.materialized) : '') + ' · <span class="badge ' + esc(v.n.status) + '">' + esc(v.n.status) + '</span></p>' +
        '<p class="small">' + up.size + ' upstream · ' + down.size + ' downstream</p>' +
        (href ? '<a class="btn primary" href="' + esc(href) + '" data-nav id="lineage-open">Open</a> ' : '') +
        '<button class="btn" id="lineage-clear">Clear</button>';
      panel.hidden = false;
      panel.querySelector('#lineage-clear').onclick = clear;
    };
    nodeG.addEventListener('click', e => {
      if (moved) return;
      const g = e.target.closest('.node');
      if (!g) return;
      for (const [v, el2] of nodeEls) if (el2 === g) select(v);
    });
    nodeG.addEventListener('dblclick', e => {
      const g = e.target.closest('.node');
      if (!g) return;
      for (const [v, el2] of nodeEls) if (el2 === g && hrefOf(v.n)) { history.pushState(null, '', hrefOf(v.n)); window.dispatchEvent(new PopStateEvent('popstate')); }
    });
    fit();
  }

  window.DangoLineage = { render, layout };
})();
