// Interactive dependency graph of a flowops scan report. No network, no libraries: the data is
// the JSON in #report-data (layout documented in flowops/report/graph_data.py). Names are user
// data: they only ever reach the page through textContent, never as markup.
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var FLAG = { FLOW: 1, SCANNED: 2, MISSING: 4, DELETED: 8, IN_CYCLE: 16, CHANGED: 32, PROBLEM: 64 };
  var COLUMN_WIDTH = 230, ROW_HEIGHT = 26, SUBCOLUMN_WIDTH = 190, MAX_COLUMN_ROWS = 40;
  var SEARCH_RESULTS = 30, LABEL_CHARS = 28;
  var GROUP_WIDTH = 250, GROUP_HEIGHT = 50, GROUP_HEADER = 56, GROUP_GAP = 40, MAX_GROUPS = 60, SHELF_GROUPS = 4;

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var nodes = data.nodes, cycles = data.cycles, limit = data.draw_limit;
  var count = nodes.length;
  var consumes = [], consumers = [], indexById = new Map();
  for (var i = 0; i < count; i++) {
    consumes.push([]);
    consumers.push([]);
    indexById.set(nodes[i][0], i);
  }
  data.edges.forEach(function (edge) {
    consumes[edge[0]].push(edge[1]);
    consumers[edge[1]].push(edge[0]);
  });

  var svg = document.getElementById("graph");
  var viewport = document.getElementById("viewport");
  var note = document.getElementById("graph-note");
  var searchBox = document.getElementById("search");
  var searchResults = document.getElementById("search-results");
  var view = { x: 20, y: 20, k: 1 };
  var visible = [], positions = new Map(), nodeElements = new Map(), edgeElements = [];
  var selection = null; // {index, impact: [indices], distance: Map, cycle: Set}
  var groupBy = "wave", expanded = new Set(), groupBoxes = [];

  function idOf(index) { return nodes[index][0]; }
  function nameOf(index) { return nodes[index][1]; }
  function has(index, flag) { return (nodes[index][4] & flag) !== 0; }
  function compareIds(a, b) { var x = idOf(a), y = idOf(b); return x < y ? -1 : x > y ? 1 : 0; }
  function compareNames(a, b) {
    var x = nameOf(a).toLowerCase(), y = nameOf(b).toLowerCase();
    return x < y ? -1 : x > y ? 1 : compareIds(a, b);
  }
  function clip(text, size) { return text.length <= size ? text : text.slice(0, size - 1) + "\u2026"; }

  // Every flow that transitively consumes `start`, nearest first then by id: the same
  // definition and order as flowops.graph.impact (the node itself is never its own consumer).
  function impactOf(start) {
    var distance = new Map([[start, 0]]), queue = [start], members = [];
    for (var head = 0; head < queue.length; head++) {
      var node = queue[head];
      consumers[node].forEach(function (consumer) {
        if (distance.has(consumer)) { return; }
        distance.set(consumer, distance.get(node) + 1);
        queue.push(consumer);
        if (has(consumer, FLAG.FLOW)) { members.push(consumer); }
      });
    }
    members.sort(function (a, b) { return distance.get(a) - distance.get(b) || compareIds(a, b); });
    return { members: members, distance: distance };
  }

  function allNodes() { var all = []; for (var k = 0; k < count; k++) { all.push(k); } return all; }

  // Large orgs: the selected node, its cycle, what it consumes and its impact set (nearest first).
  function neighbourhoodSet(current) {
    if (count <= limit) { return allNodes(); }
    var chosen = [], seen = new Set();
    function add(index) { if (!seen.has(index) && chosen.length < limit) { seen.add(index); chosen.push(index); } }
    add(current.index);
    current.cycle.forEach(add);
    consumes[current.index].forEach(add);
    current.impact.forEach(add);
    return chosen;
  }

  // Layered layout: one column per layer (waves give the order, dependencies on the left),
  // tall columns wrapped into sub-columns, rows ordered by a few barycentre sweeps so that
  // edges cross less.
  function layout(indices) {
    var inView = new Set(indices);
    var layers = Array.from(new Set(indices.map(function (k) { return nodes[k][3]; }))).sort(function (a, b) { return a - b; });
    var columnOf = new Map(layers.map(function (layer, column) { return [layer, column]; }));
    var columns = layers.map(function () { return []; });
    indices.forEach(function (k) { columns[columnOf.get(nodes[k][3])].push(k); });
    columns.forEach(function (column) { column.sort(compareNames); });
    var row = new Map();
    function number() { columns.forEach(function (column) { column.forEach(function (k, r) { row.set(k, r); }); }); }
    number();
    for (var sweep = 0; sweep < 4; sweep++) {
      columns.forEach(function (column) {
        var centre = new Map();
        column.forEach(function (k) {
          var sum = 0, n = 0;
          consumes[k].concat(consumers[k]).forEach(function (other) {
            if (inView.has(other)) { sum += row.get(other); n += 1; }
          });
          centre.set(k, n ? sum / n : row.get(k));
        });
        column.sort(function (a, b) { return centre.get(a) - centre.get(b) || compareNames(a, b); });
      });
      number();
    }
    positions = new Map();
    var x = 0, tallest = 0;
    columns.forEach(function (column) { tallest = Math.max(tallest, Math.min(column.length, MAX_COLUMN_ROWS)); });
    columns.forEach(function (column) {
      var sub = Math.ceil(column.length / MAX_COLUMN_ROWS);
      var rows = Math.min(column.length, MAX_COLUMN_ROWS);
      var top = (tallest - rows) / 2 * ROW_HEIGHT;
      column.forEach(function (k, r) {
        positions.set(k, { x: x + Math.floor(r / MAX_COLUMN_ROWS) * SUBCOLUMN_WIDTH, y: top + (r % MAX_COLUMN_ROWS) * ROW_HEIGHT });
      });
      x += (sub - 1) * SUBCOLUMN_WIDTH + COLUMN_WIDTH;
    });
  }

  function svgElement(tag, attributes) {
    var element = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    return element;
  }

  function edgePath(a, b) {
    if (a.x === b.x) {
      // Same column (flows of one wave on a cycle, or a self-loop): bulge to the left.
      var out = 30 + Math.abs(a.y - b.y) * 0.35;
      return "M" + a.x + "," + a.y + " C" + (a.x - out) + "," + (a.y - (a.y === b.y ? 22 : 0)) + " " + (b.x - out) + "," + (b.y + (a.y === b.y ? 22 : 0)) + " " + b.x + "," + b.y;
    }
    var bend = Math.max(40, Math.abs(a.x - b.x) / 2);
    return "M" + a.x + "," + a.y + " C" + (a.x - bend) + "," + a.y + " " + (b.x + bend) + "," + b.y + " " + b.x + "," + b.y;
  }

  function nodeElement(k, p) {
    var classes = ["node", has(k, FLAG.FLOW) ? "flow" : "object"];
    if (has(k, FLAG.MISSING)) { classes.push("missing"); }
    if (has(k, FLAG.DELETED)) { classes.push("deleted"); }
    if (has(k, FLAG.IN_CYCLE)) { classes.push("in-cycle"); }
    if (has(k, FLAG.CHANGED)) { classes.push("changed"); }
    if (has(k, FLAG.PROBLEM)) { classes.push("problem"); }
    var group = svgElement("g", { "class": classes.join(" "), "transform": "translate(" + p.x + "," + p.y + ")" });
    group.dataset.nodeId = idOf(k);
    var title = svgElement("title", {});
    title.textContent = nameOf(k) + " (" + idOf(k) + ", " + nodes[k][2] + ")";
    var label = svgElement("text", { "x": 9, "y": 4 });
    label.textContent = clip(nameOf(k), LABEL_CHARS);
    group.appendChild(title);
    group.appendChild(svgElement("circle", { "r": 6 }));
    group.appendChild(label);
    return group;
  }

  function clearDrawing() {
    while (viewport.firstChild) { viewport.removeChild(viewport.firstChild); }
    nodeElements = new Map();
    edgeElements = [];
    groupBoxes = [];
    var edgeLayer = svgElement("g", { "class": "edges" }), nodeLayer = svgElement("g", { "class": "nodes" });
    viewport.appendChild(edgeLayer);
    viewport.appendChild(nodeLayer);
    return { edges: edgeLayer, nodes: nodeLayer };
  }

  function draw(indices) {
    visible = indices;
    layout(indices);
    var layers = clearDrawing();
    indices.forEach(function (consumer) {
      consumes[consumer].forEach(function (consumed) {
        if (!positions.has(consumed)) { return; }
        var path = svgElement("path", { "class": "edge", "d": edgePath(positions.get(consumer), positions.get(consumed)) });
        layers.edges.appendChild(path);
        edgeElements.push({ element: path, from: consumer, to: consumed });
      });
    });
    indices.forEach(function (k) {
      var element = nodeElement(k, positions.get(k));
      layers.nodes.appendChild(element);
      nodeElements.set(k, element);
    });
    var shown = indices.length === count
      ? "all " + count + " nodes"
      : indices.length + " of " + count + " nodes (" + (selection ? "neighbourhood of the selection" : "most connected; search a flow to draw its neighbourhood") + ")";
    note.textContent = "Showing " + shown + ".";
    svg.dataset.drawn = String(indices.length);
    delete svg.dataset.groups;
    highlight();
    drawMinimap();
  }

  // Grouped overview (orgs larger than the drawing limit): every node belongs to one group of the
  // chosen kind; a collapsed group is one box with its counts, an expanded one draws its members
  // (at most the drawing limit, most connected first). Edges between drawn items are aggregated:
  // one line per pair of items, as thick as the number of dependencies it stands for.
  // The lock says COMMONMODULE, the graph's object types COMMONMODULEFLOW.
  function isModule(k) { return nodes[k][2].indexOf("COMMONMODULE") === 0; }

  function moduleOf(k) {
    if (isModule(k)) { return k; }
    var best = -1;
    consumes[k].forEach(function (m) {
      if (isModule(m) && (best < 0 || consumers[m].length > consumers[best].length || (consumers[m].length === consumers[best].length && m < best))) { best = m; }
    });
    return best;
  }

  function groupKeyOf(k) {
    if (groupBy === "type") { return nodes[k][2] || "(no type)"; }
    if (groupBy === "module") {
      var m = moduleOf(k);
      if (m >= 0) { return "module " + nameOf(m); }
      return has(k, FLAG.FLOW) ? "no common module" : "objects: " + (nodes[k][2] || "(no type)");
    }
    return nodes[k][3] > 0 ? "wave " + nodes[k][3] : "not flows (queues, data actions...)";
  }

  function buildGroups() {
    var byKey = new Map();
    for (var k = 0; k < count; k++) {
      var key = groupKeyOf(k);
      if (!byKey.has(key)) { byKey.set(key, []); }
      byKey.get(key).push(k);
    }
    var groups = Array.from(byKey, function (entry) { return { key: entry[0], members: entry[1] }; });
    if (groupBy === "wave") {
      // Dependencies left, consumers right: the wave order is the drawing order.
      groups.sort(function (a, b) { return nodes[a.members[0]][3] - nodes[b.members[0]][3]; });
    } else {
      groups.sort(function (a, b) { return b.members.length - a.members.length || (a.key < b.key ? -1 : 1); });
    }
    if (groups.length > MAX_GROUPS) {
      var rest = groups.slice(MAX_GROUPS - 1), merged = [];
      rest.forEach(function (group) { merged = merged.concat(group.members); });
      groups = groups.slice(0, MAX_GROUPS - 1);
      groups.push({ key: "other (" + rest.length + " smaller groups)", members: merged });
    }
    return groups;
  }

  function mostConnected(indices, size) {
    if (indices.length <= size) { return indices.slice().sort(compareNames); }
    return indices.slice().sort(function (a, b) {
      return (consumes[b].length + consumers[b].length) - (consumes[a].length + consumers[a].length) || a - b;
    }).slice(0, size).sort(compareNames);
  }

  function drawGrouped() {
    visible = [];
    positions = new Map();
    var layers = clearDrawing();
    var groups = buildGroups(), itemOf = new Int32Array(count), anchors = [];
    // Shelves a few groups wide (in group order: by wave that is still dependencies first), so the
    // fitted drawing stays legible instead of one long thin row.
    var shelfWidth = SHELF_GROUPS * (GROUP_WIDTH + GROUP_GAP);
    var x = 0, y = 0, shelfHeight = 0, budget = limit, drawnNodes = 0;
    groups.forEach(function (group, g) {
      var open = expanded.has(group.key), shown = open ? mostConnected(group.members, Math.max(1, budget)) : [];
      if (open) { budget -= shown.length; }
      var subcolumns = Math.max(1, Math.ceil(shown.length / MAX_COLUMN_ROWS));
      var width = open ? Math.max(GROUP_WIDTH, subcolumns * SUBCOLUMN_WIDTH + 30) : GROUP_WIDTH;
      var height = open ? GROUP_HEADER + Math.min(shown.length, MAX_COLUMN_ROWS) * ROW_HEIGHT + 10 : GROUP_HEIGHT;
      if (x > 0 && x + width > shelfWidth) { x = 0; y += shelfHeight + GROUP_GAP; shelfHeight = 0; }
      var flows = 0, inCycle = 0, changed = 0, problems = 0;
      group.members.forEach(function (k) {
        itemOf[k] = -(g + 1);
        if (has(k, FLAG.FLOW)) { flows += 1; }
        if (has(k, FLAG.IN_CYCLE)) { inCycle += 1; }
        if (has(k, FLAG.CHANGED)) { changed += 1; }
        if (has(k, FLAG.PROBLEM)) { problems += 1; }
      });
      var box = svgElement("g", { "class": "group-node" + (open ? " expanded" : "") + (inCycle ? " has-cycle" : ""), "transform": "translate(" + x + "," + y + ")" });
      box.dataset.group = group.key;
      box.setAttribute("role", "button");
      box.setAttribute("aria-expanded", open ? "true" : "false");
      var title = svgElement("title", {});
      title.textContent = group.key + ": " + group.members.length + " nodes. Click to " + (open ? "collapse." : "expand.");
      box.appendChild(title);
      box.appendChild(svgElement("rect", { "width": width, "height": height }));
      var label = svgElement("text", { "class": "group-label", "x": 10, "y": 20 });
      label.textContent = (open ? "\u25be " : "\u25b8 ") + clip(group.key, LABEL_CHARS + 4);
      box.appendChild(label);
      var facts = [flows + (flows === 1 ? " flow" : " flows")];
      if (group.members.length > flows) { facts.push((group.members.length - flows) + " other"); }
      if (inCycle) { facts.push(inCycle + " on cycles"); }
      if (changed) { facts.push(changed + " changed"); }
      if (problems) { facts.push(problems + " with problems"); }
      if (open && shown.length < group.members.length) { facts.push("showing " + shown.length); }
      var counts = svgElement("text", { "class": "group-counts", "x": 10, "y": 38 });
      counts.textContent = facts.join(" \u00b7 ");
      box.appendChild(counts);
      layers.nodes.appendChild(box);
      groupBoxes.push({ x: x, y: y, width: width, height: height });
      anchors.push({ left: { x: x, y: y + GROUP_HEIGHT / 2 }, right: { x: x + width, y: y + GROUP_HEIGHT / 2 } });
      shown.forEach(function (k, r) {
        var p = { x: x + 16 + Math.floor(r / MAX_COLUMN_ROWS) * SUBCOLUMN_WIDTH, y: y + GROUP_HEADER + (r % MAX_COLUMN_ROWS) * ROW_HEIGHT };
        positions.set(k, p);
        itemOf[k] = k;
        var element = nodeElement(k, p);
        layers.nodes.appendChild(element);
        nodeElements.set(k, element);
        visible.push(k);
      });
      drawnNodes += shown.length;
      x += width + GROUP_GAP;
      shelfHeight = Math.max(shelfHeight, height);
    });
    var aggregated = new Map();
    data.edges.forEach(function (edge) {
      var a = itemOf[edge[0]], b = itemOf[edge[1]];
      if (a === b && a < 0) { return; }
      var key = a + "," + b;
      aggregated.set(key, (aggregated.get(key) || 0) + 1);
    });
    aggregated.forEach(function (number, key) {
      var pair = key.split(",").map(Number), from = pair[0], to = pair[1];
      // Consumers sit right of what they consume: leave a group box on its left, enter on its right.
      var a = from < 0 ? anchors[-from - 1].left : positions.get(from);
      var b = to < 0 ? anchors[-to - 1].right : positions.get(to);
      var path = svgElement("path", { "class": "edge" + (from < 0 || to < 0 ? " aggregate" : ""), "d": edgePath(a, b),
        "stroke-width": Math.min(8, 1 + Math.log2(number)).toFixed(2) });
      var title = svgElement("title", {});
      title.textContent = number + (number === 1 ? " dependency" : " dependencies");
      path.appendChild(title);
      layers.edges.appendChild(path);
      if (from >= 0 && to >= 0) { edgeElements.push({ element: path, from: from, to: to }); }
    });
    note.textContent = "Showing " + count + " nodes in " + groups.length + " groups by " + groupBy +
      (drawnNodes ? " (" + drawnNodes + " drawn one by one)" : "") + "; click a group to expand it, search a flow to draw its neighbourhood.";
    svg.dataset.drawn = String(drawnNodes);
    svg.dataset.groups = String(groups.length);
    highlight();
    drawMinimap();
  }

  function grouped() { return count > limit; }

  function drawOverview() {
    if (grouped()) { drawGrouped(); } else { draw(allNodes()); }
  }

  // The minimap: everything drawn, scaled into a corner, with the visible part framed; a click
  // there moves the view to that spot.
  var minimap = document.getElementById("minimap"), miniFrame = null, miniBox = null;
  function drawMinimap() {
    while (minimap.firstChild) { minimap.removeChild(minimap.firstChild); }
    var box = viewport.getBBox();
    if (!box.width || !box.height) { minimap.hidden = true; miniFrame = null; return; }
    minimap.hidden = false;
    var pad = Math.max(box.width, box.height) * 0.03;
    miniBox = { x: box.x - pad, y: box.y - pad, width: box.width + 2 * pad, height: box.height + 2 * pad };
    minimap.setAttribute("viewBox", [miniBox.x, miniBox.y, miniBox.width, miniBox.height].join(" "));
    minimap.setAttribute("preserveAspectRatio", "xMidYMid meet");
    var dot = Math.max(miniBox.width, miniBox.height) / 90;
    groupBoxes.forEach(function (b) {
      minimap.appendChild(svgElement("rect", { "class": "mini-item", "x": b.x, "y": b.y, "width": b.width, "height": Math.min(b.height, GROUP_HEIGHT) }));
    });
    positions.forEach(function (p) {
      minimap.appendChild(svgElement("rect", { "class": "mini-item", "x": p.x - dot / 2, "y": p.y - dot / 2, "width": dot, "height": dot }));
    });
    miniFrame = svgElement("rect", { "class": "mini-view" });
    minimap.appendChild(miniFrame);
    frameMinimap();
  }

  function frameMinimap() {
    if (!miniFrame) { return; }
    var width = svg.clientWidth || 800, height = svg.clientHeight || 600;
    miniFrame.setAttribute("x", String(-view.x / view.k));
    miniFrame.setAttribute("y", String(-view.y / view.k));
    miniFrame.setAttribute("width", String(width / view.k));
    miniFrame.setAttribute("height", String(height / view.k));
  }

  minimap.addEventListener("click", function (event) {
    var matrix = minimap.getScreenCTM();
    if (!matrix) { return; }
    var point = minimap.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var target = point.matrixTransform(matrix.inverse());
    view.x = (svg.clientWidth || 800) / 2 - target.x * view.k;
    view.y = (svg.clientHeight || 600) / 2 - target.y * view.k;
    applyView();
  });

  function highlight() {
    var impactSet = new Set(selection ? selection.impact : []);
    var cycleSet = selection ? selection.cycle : new Set();
    nodeElements.forEach(function (element, k) {
      var selected = selection !== null && k === selection.index;
      element.classList.toggle("selected", selected);
      element.classList.toggle("highlighted", impactSet.has(k));
      element.classList.toggle("cycle-member", cycleSet.has(k) && !selected);
      element.classList.toggle("dimmed", selection !== null && !selected && !impactSet.has(k) && !cycleSet.has(k));
    });
    edgeElements.forEach(function (edge) {
      var toTarget = selection !== null && (edge.to === selection.index || impactSet.has(edge.to));
      var onImpact = impactSet.has(edge.from) && toTarget;
      var onCycle = cycleSet.has(edge.from) && cycleSet.has(edge.to);
      edge.element.classList.toggle("highlighted", onImpact && !onCycle);
      edge.element.classList.toggle("cycle-edge", onCycle);
      edge.element.classList.toggle("dimmed", selection !== null && !onImpact && !onCycle);
    });
  }

  function applyView() {
    viewport.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
    svg.dataset.zoom = view.k.toFixed(3);
    frameMinimap();
  }

  function zoomAt(factor, cx, cy) {
    var k = Math.min(4, Math.max(0.05, view.k * factor));
    view.x = cx - (cx - view.x) * (k / view.k);
    view.y = cy - (cy - view.y) * (k / view.k);
    view.k = k;
    applyView();
  }

  function fit() {
    var box = viewport.getBBox(), width = svg.clientWidth || 800, height = svg.clientHeight || 600;
    if (!box.width || !box.height) { view = { x: 20, y: 20, k: 1 }; applyView(); return; }
    var k = Math.min(1.4, Math.max(0.05, Math.min((width - 40) / box.width, (height - 40) / box.height)));
    view = { k: k, x: (width - box.width * k) / 2 - box.x * k, y: (height - box.height * k) / 2 - box.y * k };
    applyView();
  }

  function centreOn(k) {
    var p = positions.get(k);
    if (!p) { return; }
    view.k = Math.max(view.k, 0.8);
    view.x = (svg.clientWidth || 800) / 2 - p.x * view.k;
    view.y = (svg.clientHeight || 600) / 2 - p.y * view.k;
    applyView();
  }

  // Impact and cycle entries are buttons: clicking one selects that flow (its own impact set).
  function listItem(k, text) {
    var item = document.createElement("li"), button = document.createElement("button");
    item.dataset.nodeId = idOf(k);
    button.type = "button";
    button.className = "list-link";
    button.textContent = text;
    button.title = idOf(k);
    item.appendChild(button);
    return item;
  }

  function describe(current) {
    var k = current.index, details = document.getElementById("selection-details");
    while (details.firstChild) { details.removeChild(details.firstChild); }
    var facts = [["name", nameOf(k)], ["id", idOf(k)], ["type", nodes[k][2]],
      ["wave", nodes[k][3] > 0 ? String(nodes[k][3]) : "\u2014"],
      ["consumes", String(consumes[k].length)], ["consumers", String(consumers[k].length)]];
    var states = [];
    if (has(k, FLAG.MISSING)) { states.push("missing from the org"); }
    if (has(k, FLAG.DELETED)) { states.push("deleted"); }
    if (has(k, FLAG.IN_CYCLE)) { states.push("on a cycle"); }
    if (has(k, FLAG.CHANGED)) { states.push("changed since the previous lock"); }
    if (has(k, FLAG.PROBLEM)) { states.push("has problems (see the table)"); }
    if (states.length) { facts.push(["state", states.join(", ")]); }
    facts.forEach(function (fact) {
      var term = document.createElement("dt"), value = document.createElement("dd");
      term.textContent = fact[0];
      value.textContent = fact[1];
      details.appendChild(term);
      details.appendChild(value);
    });
    var impactList = document.getElementById("impact-list");
    while (impactList.firstChild) { impactList.removeChild(impactList.firstChild); }
    current.impact.forEach(function (m) {
      impactList.appendChild(listItem(m, nameOf(m) + " (" + current.distance.get(m) + (current.distance.get(m) === 1 ? " step)" : " steps)")));
    });
    document.getElementById("impact-count").textContent = String(current.impact.length);
    var cycleList = document.getElementById("cycle-list");
    while (cycleList.firstChild) { cycleList.removeChild(cycleList.firstChild); }
    Array.from(current.cycle).sort(compareNames).forEach(function (m) { cycleList.appendChild(listItem(m, nameOf(m))); });
    document.getElementById("cycle-count").textContent = String(current.cycle.size);
  }

  function select(k, recentre) {
    resetSearch();
    var impact = impactOf(k);
    var cycleNumber = nodes[k][5];
    selection = { index: k, impact: impact.members, distance: impact.distance,
      cycle: new Set(cycleNumber >= 0 ? cycles[cycleNumber] : []) };
    svg.dataset.selected = idOf(k);
    document.getElementById("selection-hint").hidden = true;
    describe(selection);
    if (count > limit) {
      draw(neighbourhoodSet(selection));
      fit();
    } else {
      highlight();
    }
    // A redrawn neighbourhood was just fitted to the view; a full drawing keeps the user's zoom.
    if (recentre && count <= limit) { centreOn(k); }
  }

  function clearSelection() {
    resetSearch();
    selection = null;
    delete svg.dataset.selected;
    document.getElementById("selection-hint").hidden = false;
    ["impact-list", "cycle-list", "selection-details"].forEach(function (id) {
      var element = document.getElementById(id);
      while (element.firstChild) { element.removeChild(element.firstChild); }
    });
    document.getElementById("impact-count").textContent = "0";
    document.getElementById("cycle-count").textContent = "0";
    if (grouped()) { drawGrouped(); fit(); } else { highlight(); }
  }

  function search(text) {
    var query = text.trim().toLowerCase();
    while (searchResults.firstChild) { searchResults.removeChild(searchResults.firstChild); }
    nodeElements.forEach(function (element) { element.classList.remove("match"); });
    if (!query) { return []; }
    var ranked = [];
    for (var k = 0; k < count; k++) {
      var name = nameOf(k).toLowerCase(), id = idOf(k).toLowerCase();
      var rank = (name === query || id === query) ? 0 : name.indexOf(query) === 0 ? 1
        : (name.indexOf(query) >= 0 || id.indexOf(query) >= 0) ? 2 : -1;
      if (rank >= 0) { ranked.push([rank, k]); }
    }
    ranked.sort(function (a, b) { return a[0] - b[0] || compareNames(a[1], b[1]); });
    var matches = ranked.map(function (pair) { return pair[1]; });
    matches.slice(0, SEARCH_RESULTS).forEach(function (k) {
      var item = document.createElement("li"), button = document.createElement("button"), id = document.createElement("span");
      button.type = "button";
      button.className = "search-result";
      button.dataset.nodeId = idOf(k);
      button.textContent = nameOf(k);
      id.className = "result-id";
      id.textContent = idOf(k) + " \u00b7 " + nodes[k][2];
      button.appendChild(id);
      item.appendChild(button);
      searchResults.appendChild(item);
    });
    matches.forEach(function (k) { if (nodeElements.has(k)) { nodeElements.get(k).classList.add("match"); } });
    return matches;
  }

  function chooseResult(id) {
    var k = indexById.get(id);
    if (k === undefined) { return; }
    select(k, true);
  }

  // The search box describes the selection or nothing: a query left behind after another node
  // was clicked, or the selection cleared, would claim matches that are no longer shown.
  function resetSearch() {
    searchBox.value = "";
    search("");
  }

  searchBox.addEventListener("input", function () { search(searchBox.value); });
  searchBox.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      var matches = search(searchBox.value);
      if (matches.length) { chooseResult(idOf(matches[0])); }
    } else if (event.key === "Escape") {
      searchBox.value = "";
      search("");
    }
  });
  ["impact-list", "cycle-list"].forEach(function (listId) {
    document.getElementById(listId).addEventListener("click", function (event) {
      var entry = event.target.closest("[data-node-id]");
      var k = entry ? indexById.get(entry.dataset.nodeId) : undefined;
      if (k !== undefined) { select(k, true); }
    });
  });
  searchResults.addEventListener("click", function (event) {
    var button = event.target.closest("[data-node-id]");
    if (button) { chooseResult(button.dataset.nodeId); }
  });

  // Pan by dragging the background, zoom with the wheel or the buttons; a drag is not a click.
  var drag = null, dragged = false;
  svg.addEventListener("pointerdown", function (event) {
    drag = { x: event.clientX, y: event.clientY, viewX: view.x, viewY: view.y };
    dragged = false;
  });
  svg.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) > 3) { dragged = true; svg.classList.add("dragging"); svg.setPointerCapture(event.pointerId); }
    if (dragged) { view.x = drag.viewX + dx; view.y = drag.viewY + dy; applyView(); }
  });
  function endDrag() { drag = null; svg.classList.remove("dragging"); }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  svg.addEventListener("click", function (event) {
    if (dragged) { dragged = false; return; }
    var target = event.target.closest("[data-node-id]");
    if (target) { select(indexById.get(target.dataset.nodeId), false); return; }
    var box = event.target.closest("[data-group]");
    if (box) {
      var key = box.dataset.group;
      if (expanded.has(key)) { expanded.delete(key); } else { expanded.add(key); }
      drawGrouped();
    }
  });
  svg.addEventListener("wheel", function (event) {
    event.preventDefault();
    var box = svg.getBoundingClientRect();
    zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });
  document.getElementById("zoom-in").addEventListener("click", function () { zoomAt(1.25, svg.clientWidth / 2, svg.clientHeight / 2); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomAt(0.8, svg.clientWidth / 2, svg.clientHeight / 2); });
  document.getElementById("zoom-fit").addEventListener("click", fit);
  document.getElementById("clear-selection").addEventListener("click", clearSelection);

  // Links in the panel and the tables select their node in the graph.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".panel li[data-node-id], a[data-select]");
    if (!link) { return; }
    event.preventDefault();
    var k = indexById.get(link.dataset.nodeId || link.dataset.select);
    if (k === undefined) { return; }
    select(k, true);
    if (link.dataset.select) { svg.scrollIntoView({ block: "center" }); }
  });

  // Tables: a header click sorts by that column (again: reversed; numbers as numbers, so sorting
  // the problems by code or severity groups them), and the box above each table hides the rows
  // without its text. 285 problems become the handful of the kind being looked at.
  Array.prototype.forEach.call(document.querySelectorAll("table[id]"), function (table) {
    var body = table.tBodies[0];
    if (!body || !table.tHead) { return; }
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (header, column) {
      header.classList.add("sortable");
      header.tabIndex = 0;
      header.setAttribute("aria-sort", "none");
      function sortBy() {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (other) { other.setAttribute("aria-sort", "none"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column].textContent.trim(), y = b.cells[column].textContent.trim();
          var nx = Number(x), ny = Number(y);
          var order = (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      header.addEventListener("click", sortBy);
      header.addEventListener("keydown", function (event) { if (event.key === "Enter") { sortBy(); } });
    });
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "table-filter";
    filter.placeholder = "Filter rows";
    filter.autocomplete = "off";
    filter.dataset.table = table.id;
    filter.setAttribute("aria-label", "Filter the rows of " + table.id);
    filter.addEventListener("input", function () {
      var query = filter.value.trim().toLowerCase();
      Array.prototype.forEach.call(body.rows, function (row) {
        row.hidden = !!query && row.textContent.toLowerCase().indexOf(query) < 0;
      });
    });
    table.parentNode.insertBefore(filter, table);
  });

  var groupSelect = document.getElementById("group-by");
  if (grouped()) {
    document.getElementById("group-by-label").hidden = false;
    groupSelect.value = groupBy;
    groupSelect.addEventListener("change", function () {
      groupBy = groupSelect.value;
      expanded = new Set();
      clearSelection();
    });
  }
  drawOverview();
  fit();
  document.body.dataset.ready = "true";
})();
