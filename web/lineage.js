/* The lineage graph: laid out by dagre (the layered layout of the npm
 * package @dagrejs/dagre, embedded with the page: a rank per distance from
 * the sources, crossings reduced, long edges routed around nodes), drawn
 * as SVG with zoom (wheel), pan (drag), click to select a node (its
 * upstream and downstream are highlighted) and colours by last status. */
'use strict';
(function () {
  const NODE_W = 190, NODE_H = 38, COL_GAP = 90, ROW_GAP = 14, TOP = 30;
  const COLORS = {
    source: ['#efe7ff', '#7c3aed'], success: ['#e5f6eb', '#17803d'], error: ['#fde8e8', '#c0262d'],
    fail: ['#fde8e8', '#c0262d'], skipped: ['#eef0f3', '#9aa3b0'], never: ['#f4f5f7', '#9aa3b0'],
    running: ['#e3efff', '#1f6feb'], warn: ['#fff4d6', '#9a6700'],
  };
  const SVGNS = 'http://www.w3.org/2000/svg';

  /* Positions from dagre, left to right. Returns each node's top-left
   * corner (x, y), its parents and children, the nodes of each rank (a
   * column, for the layer labels), each edge's route, and the size. */
  function layout(nodes, edges) {
    const byId = new Map(nodes.map(n => [n.id, { n, parents: [], children: [], rank: 0 }]));
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'LR', nodesep: ROW_GAP, ranksep: COL_GAP, marginx: 0, marginy: TOP });
    g.setDefaultEdgeLabel(() => ({}));
    for (const id of byId.keys()) g.setNode(id, { width: NODE_W, height: NODE_H });
    const routes = [];
    for (const e of edges) {
      const a = byId.get(e.from), b = byId.get(e.to);
      if (!a || !b) continue;
      a.children.push(b); b.parents.push(a);
      const name = String(routes.length);
      g.setEdge(e.from, e.to, {}, name);
      routes.push({ e, name });
    }
    dagre.layout(g);
    for (const [id, v] of byId) {
      const d = g.node(id);
      v.x = d.x - NODE_W / 2;
      v.y = d.y - NODE_H / 2;
    }
    /* a rank is a column: the nodes that share an x */
    const xs = [...new Set([...byId.values()].map(v => Math.round(v.x)))].sort((p, q) => p - q);
    const ranks = xs.map(() => []);
    for (const v of byId.values()) { v.rank = xs.indexOf(Math.round(v.x)); ranks[v.rank].push(v); }
    const paths = new Map(routes.map(r => [r.e, g.edge(r.e.from, r.e.to, r.name).points]));
    const size = g.graph();
    return { byId, ranks, xs, paths, width: size.width || 0, height: (size.height || 0) + 10 };
  }

  /* a smooth path through dagre's points: quadratic curves between their
   * midpoints */
  function route(points) {
    if (!points || !points.length) return '';
    let d = `M${points[0].x},${points[0].y}`;
    for (let i = 1; i < points.length - 1; i++) {
      const p = points[i], q = points[i + 1];
      d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
    }
    const last = points[points.length - 1];
    return d + ` L${last.x},${last.y}`;
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
      const t = el('text', { x: L.xs[i], y: 14, class: 'layer-label' }, labelG);
      t.textContent = name === 'source' ? 'sources' : name;
    });
    const edgeEls = [];
    for (const e of doc.edges) {
      const a = L.byId.get(e.from), b = L.byId.get(e.to);
      if (!a || !b) continue;
      const p = el('path', { d: route(L.paths.get(e)), class: 'edge' }, edgeG);
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
