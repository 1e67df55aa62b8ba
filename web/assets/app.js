// netlab web: every running lab drawn as a graph and kept live from its event stream.
// Uses only the JSON API that docs/web.md documents; no framework, nothing from elsewhere.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 960, HEIGHT = 560;
let control = false;
const labs = new Map();  // name -> the lab's drawing and its stream

const enc = encodeURIComponent;
const endName = (end) => `${end.node}:${end.interface}`;

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function element(tag, attributes = {}, text) {
  const made = document.createElementNS(tag === "svg" || tag === "g" || tag === "line" ||
                                        tag === "circle" || tag === "rect" || tag === "text"
                                        ? SVG : "http://www.w3.org/1999/xhtml", tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text !== undefined) made.textContent = text;
  return made;
}

function formatRate(bits, packets) {
  const units = [["Gbit/s", 1e9], ["Mbit/s", 1e6], ["kbit/s", 1e3]];
  const [unit, size] = units.find(([, size]) => bits >= size) || ["bit/s", 1];
  return `${Math.round(packets)} pkt/s ${(bits / size).toFixed(size === 1 ? 0 : 1)} ${unit}`;
}

// Nodes in breadth-first order from the first, so that neighbours start side by side on the
// circle and the spring layout does not begin (and stay) tangled.
function breadthFirst(names, edges) {
  const neighbours = new Map(names.map((name) => [name, []]));
  for (const [a, b] of edges) { neighbours.get(a).push(b); neighbours.get(b).push(a); }
  const order = [], seen = new Set();
  for (const root of names) {
    if (seen.has(root)) continue;
    const queue = [root];
    seen.add(root);
    while (queue.length) {
      const name = queue.shift();
      order.push(name);
      for (const next of neighbours.get(name)) if (!seen.has(next)) { seen.add(next); queue.push(next); }
    }
  }
  return order;
}

// Positions: a spring layout for labs small enough to settle quickly, a grid beyond.
function layout(names, edges) {
  names = breadthFirst(names, edges);
  const count = names.length;
  const position = new Map();
  names.forEach((name, i) => {
    const angle = (2 * Math.PI * i) / count;
    position.set(name, {x: Math.cos(angle) * 200, y: Math.sin(angle) * 200});
  });
  if (count > 150) {
    const columns = Math.ceil(Math.sqrt(count * WIDTH / HEIGHT));
    names.forEach((name, i) => position.set(name, {x: (i % columns) * 40, y: Math.floor(i / columns) * 40}));
  } else {
    for (let step = 0; step < 400; ++step) {
      const force = new Map(names.map((name) => [name, {x: 0, y: 0}]));
      for (const a of names) for (const b of names) {
        if (a === b) continue;
        const p = position.get(a), q = position.get(b);
        const dx = p.x - q.x, dy = p.y - q.y, d2 = Math.max(dx * dx + dy * dy, 1);
        force.get(a).x += (dx / d2) * 4000; force.get(a).y += (dy / d2) * 4000;
      }
      for (const [a, b] of edges) {
        const p = position.get(a), q = position.get(b);
        const dx = q.x - p.x, dy = q.y - p.y;
        force.get(a).x += dx * 0.02; force.get(a).y += dy * 0.02;
        force.get(b).x -= dx * 0.02; force.get(b).y -= dy * 0.02;
      }
      const cooling = 1 - step / 400;
      for (const name of names) {
        const p = position.get(name), f = force.get(name);
        p.x += Math.max(-20, Math.min(20, f.x)) * cooling;
        p.y += Math.max(-20, Math.min(20, f.y)) * cooling;
      }
    }
  }
  // Scaled into the drawing, with room for the labels.
  const xs = [...position.values()].map((p) => p.x), ys = [...position.values()].map((p) => p.y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // Each axis stretched on its own: the page is wide, and labels need the room more than the
  // layout needs its proportions.
  const scaleX = Math.min((WIDTH - 160) / Math.max(maxX - minX, 1), 3);
  const scaleY = Math.min((HEIGHT - 100) / Math.max(maxY - minY, 1), 3);
  for (const p of position.values()) {
    p.x = 80 + (p.x - minX) * scaleX + ((WIDTH - 160) - (maxX - minX) * scaleX) / 2;
    p.y = 50 + (p.y - minY) * scaleY + ((HEIGHT - 100) - (maxY - minY) * scaleY) / 2;
  }
  return position;
}

function addressesOf(status) {
  const addresses = new Map();  // "node:interface" -> "10.0.0.1/30 ..."
  for (const node of status.nodes) for (const i of node.interfaces) {
    addresses.set(`${node.name}:${i.name}`, i.addresses.join(" "));
  }
  return addresses;
}

function drawNode(lab, node, p) {
  const g = element("g", {class: `node ${node.kind} ${node.state}`, "data-node": node.name,
                          "data-kind": node.kind, "data-state": node.state});
  if (node.kind === "switch") g.append(element("rect", {x: p.x - 18, y: p.y - 11, width: 36, height: 22, rx: 3}));
  else if (node.kind === "router") g.append(element("circle", {cx: p.x, cy: p.y, r: 16}));
  else g.append(element("rect", {x: p.x - 14, y: p.y - 14, width: 28, height: 28, rx: 8}));
  g.append(element("text", {x: p.x, y: p.y + 4, class: "name"}, node.name));
  g.addEventListener("click", () => showNode(lab, node.name));
  return g;
}

// An end's label sits a third of the way along the link, beside its node.
function drawEndLabel(from, to, text) {
  return element("text", {x: from.x + (to.x - from.x) * 0.22, y: from.y + (to.y - from.y) * 0.22 - 4,
                          class: "end"}, text);
}

function drawLink(lab, link, position, addresses) {
  const a = endName(link.ends[0]), b = endName(link.ends[1]);
  const p = position.get(link.ends[0].node), q = position.get(link.ends[1].node);
  const g = element("g", {class: "link", "data-a": a, "data-b": b, "data-state": "unknown"});
  g.append(element("line", {x1: p.x, y1: p.y, x2: q.x, y2: q.y}));
  g.append(drawEndLabel(p, q, `${link.ends[0].interface} ${addresses.get(a) || ""}`));
  g.append(drawEndLabel(q, p, `${link.ends[1].interface} ${addresses.get(b) || ""}`));
  const rate = element("text", {x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 + 12, class: "rate"}, "");
  const impairment = element("text", {x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 + 24, class: "impairment"}, "");
  g.append(rate, impairment);
  g.addEventListener("click", () => showLink(lab, a, b));
  return {g, rate, impairment};
}

async function addLab(name) {
  const section = element("section", {class: "lab", "data-lab": name});
  labs.set(name, {section});
  const [status, links] = await Promise.all([api(`/api/labs/${enc(name)}`), api(`/api/labs/${enc(name)}/links`)]);
  const heading = element("h2", {}, `lab ${name}`);
  const note = element("span", {class: "note"}, status.topology);
  const svg = element("svg", {viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "graph"});
  section.append(heading, note, svg);
  const names = status.nodes.map((node) => node.name);
  const position = layout(names, links.links.map((l) => [l.ends[0].node, l.ends[1].node]));
  const addresses = addressesOf(status);
  const lab = {name, section, svg, note, nodes: new Map(), links: new Map(), status};
  labs.set(name, lab);
  const linkLayer = element("g"), nodeLayer = element("g");
  svg.append(linkLayer, nodeLayer);
  for (const link of links.links) {
    const drawn = drawLink(lab, link, position, addresses);
    linkLayer.append(drawn.g);
    lab.links.set(`${endName(link.ends[0])} ${endName(link.ends[1])}`, drawn);
  }
  for (const node of status.nodes) {
    const g = drawNode(lab, {name: node.name, kind: node.kind, state: node.state}, position.get(node.name));
    nodeLayer.append(g);
    lab.nodes.set(node.name, g);
  }
  const main = document.getElementById("labs");
  main.querySelector(".empty")?.remove();
  main.append(section);
  watch(lab);
}

function watch(lab) {
  const source = new EventSource(`/api/labs/${enc(lab.name)}/events`);
  lab.source = source;
  source.addEventListener("update", (event) => applyUpdate(lab, JSON.parse(event.data)));
  source.addEventListener("problem", (event) => { lab.note.textContent = JSON.parse(event.data).error; });
  source.addEventListener("gone", (event) => {
    source.close();
    lab.section.classList.add("gone");
    lab.section.dataset.state = "gone";
    lab.note.textContent = JSON.parse(event.data).reason;
    labs.delete(lab.name);
    setTimeout(() => lab.section.remove(), 30000);
  });
}

function describeEgress(link) {
  const parts = [];
  if (link.a.egress_text) parts.push(`→ ${link.a.egress_text}`);
  if (link.b.egress_text) parts.push(`← ${link.b.egress_text}`);
  return parts.join("  ");
}

function applyUpdate(lab, update) {
  for (const node of update.nodes) {
    const g = lab.nodes.get(node.name);
    if (!g || g.dataset.state === node.state) continue;
    g.dataset.state = node.state;
    g.classList.toggle("dead", node.state !== "running");
  }
  for (const link of update.links) {
    const drawn = lab.links.get(`${endName(link.a)} ${endName(link.b)}`);
    if (!drawn) continue;
    const state = link.up ? "up" : "down";
    if (drawn.g.dataset.state !== state) {
      drawn.g.dataset.state = state;
      drawn.g.dataset.changedAt = Date.now();
      drawn.g.classList.toggle("down", !link.up);
    }
    drawn.rate.textContent = link.up
        ? `${formatRate(link.a_to_b.bits_per_second, link.a_to_b.packets_per_second)} → · ← ` +
          formatRate(link.b_to_a.bits_per_second, link.b_to_a.packets_per_second)
        : `down (${link.a.oper_state}/${link.b.oper_state})`;
    drawn.impairment.textContent = describeEgress(link);
    drawn.last = link;
  }
  lab.section.dataset.updated = update.time;
  lab.note.textContent = `updated ${new Date(update.time * 1000).toLocaleTimeString()}`;
}

function panel(title) {
  const details = document.getElementById("details");
  details.replaceChildren(element("button", {class: "close"}, "×"), element("h3", {}, title));
  details.querySelector(".close").addEventListener("click", () => { details.hidden = true; });
  details.hidden = false;
  return details;
}

function table(header, rows) {
  const made = element("table");
  made.append(element("tr"));
  for (const cell of header) made.firstChild.append(element("th", {}, cell));
  for (const row of rows) {
    const tr = element("tr");
    for (const cell of row) tr.append(element("td", {}, cell));
    made.append(tr);
  }
  return made;
}

async function showNode(lab, name) {
  const details = panel(`${name} (lab ${lab.name})`);
  try {
    const [status, routes] = await Promise.all([
      api(`/api/labs/${enc(lab.name)}`), api(`/api/labs/${enc(lab.name)}/nodes/${enc(name)}/routes`)]);
    const node = status.nodes.find((n) => n.name === name);
    details.append(element("p", {}, `${node.kind}, ${node.state}, pid ${node.pid}`));
    details.append(table(["interface", "state", "addresses", "mtu"],
        node.interfaces.map((i) => [i.name, i.oper_state, i.addresses.join(" "), String(i.mtu)])));
    details.append(element("h4", {}, "routes (live)"));
    details.append(table(["destination", "via", "protocol"], routes.routes.map((r) => [
      r.destination, r.next_hops.map((h) => [h.gateway && `via ${h.gateway}`, h.device && `dev ${h.device}`]
          .filter(Boolean).join(" ")).join(", "), r.protocol])));
  } catch (error) {
    details.append(element("p", {class: "error"}, error.message));
  }
}

async function post(path, body) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}

function showLink(lab, a, b) {
  const details = panel(`${a} ↔ ${b}`);
  const link = lab.links.get(`${a} ${b}`).last;
  if (link) {
    details.append(table(["end", "state", "egress (impairments)"], [
      [a, link.a.oper_state, link.a.egress_text || "-"], [b, link.b.oper_state, link.b.egress_text || "-"]]));
  }
  if (!control) {
    details.append(element("p", {class: "note"}, "read-only: `netlab web --control` fails, restores and impairs links"));
    return;
  }
  const message = element("p", {class: "note"});
  const base = `/api/labs/${enc(lab.name)}/links/${enc(a)}`;
  const act = (label, run) => {
    const button = element("button", {}, label);
    button.addEventListener("click", async () => {
      message.textContent = "…";
      try { await run(); message.textContent = `${label}: done`; } catch (error) { message.textContent = error.message; }
    });
    return button;
  };
  details.append(act("fail link", () => post(`${base}/down`, {})), act("restore link", () => post(`${base}/up`, {})));
  const form = element("form");
  const fields = ["delay", "jitter", "loss", "rate"];
  for (const field of fields) {
    form.append(element("label", {}, field), element("input", {name: field, placeholder: {delay: "20ms", jitter: "5ms", loss: "1%", rate: "10mbit"}[field]}));
  }
  const direction = element("select", {name: "direction"});
  for (const value of ["both", "out", "in"]) direction.append(element("option", {value}, value));
  form.append(element("label", {}, `direction (from ${a})`), direction);
  form.addEventListener("submit", (event) => event.preventDefault());
  details.append(form,
      act("set impairments", () => {
        const body = {direction: direction.value};
        for (const field of fields) if (form.elements[field].value) body[field] = form.elements[field].value;
        return post(`${base}/impairments`, body);
      }),
      act("reset impairments", () => post(`${base}/impairments`, {reset: true})),
      message, captureForm(lab.name, a, b));
}

// A capture of either end, downloaded as pcapng (GET .../capture; docs/web.md): the browser
// saves it as the packets come, until the seconds are over.
function captureForm(labName, a, b) {
  const form = element("form", {class: "capture"});
  form.append(element("label", {}, "capture seconds"), element("input", {name: "seconds", value: "10"}),
              element("label", {}, "capture filter"), element("input", {name: "filter", placeholder: "ospf or arp"}));
  form.addEventListener("submit", (event) => event.preventDefault());
  const links = [a, b].map((end) => {
    const link = element("a", {class: "download", "data-end": end, download: "", href: "#"}, `capture ${end} (pcapng)`);
    // The address is made at the click, from the form as it is then.
    link.addEventListener("click", () => {
      const query = new URLSearchParams({seconds: form.elements.seconds.value});
      if (form.elements.filter.value) query.set("filter", form.elements.filter.value);
      link.href = `/api/labs/${enc(labName)}/links/${enc(end)}/capture?${query}`;
    });
    return link;
  });
  const wrapper = element("div");
  wrapper.append(form, ...links);
  return wrapper;
}

async function refreshLabs() {
  try {
    const list = await api("/api/labs");
    for (const lab of list) if (!labs.has(lab.name)) await addLab(lab.name);
    const main = document.getElementById("labs");
    if (!main.querySelector(".lab") && !main.querySelector(".empty")) {
      main.append(element("p", {class: "empty"}, "no lab is running"));
    } else if (list.length === 0 && main.querySelector(".empty")) {
      main.querySelector(".empty").textContent = "no lab is running";
    }
  } catch (error) {
    document.getElementById("server").textContent = error.message;
  }
}

async function start() {
  const server = await api("/api/server");
  control = server.control;
  document.getElementById("server").textContent = `netlab ${server.version} · ${control ? "control" : "read-only"}`;
  await refreshLabs();
  document.body.dataset.ready = "true";
  setInterval(refreshLabs, 5000);
}

start();
