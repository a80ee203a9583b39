// mlpzero playground: the page. All training happens in the server (mlpzero's MLP);
// this file sends settings and commands over a WebSocket and draws the frames it gets.
"use strict";

const DOMAIN = 6; // the view is [-6, 6]^2, as in mlpzero/playground/data.py
const NODE = 36; // neuron thumbnail size, px
const ROW = 50; // vertical distance between neurons, px
const TOP = 44; // room for the layer headers, px
const DATASET_LABELS = {
  circle: "Circle", xor: "XOR", gauss: "Gaussian", spiral: "Spiral",
  moons: "Moons", linear: "Linear", plane: "Plane", bump: "Gaussian bump",
};

const state = {
  socket: null,
  session: null,
  config: null, // defaults, limits, dataset and feature names from the server
  settings: null, // the settings shown, including a change not yet confirmed
  confirmed: null, // the settings the server accepted last
  playing: false,
  inFlight: false,
  queue: [], // messages waiting for the reply to the one in flight
  configured: false,
  frame: null,
  data: null,
  history: { epoch: [], train: [], test: [], grad: [], dead: [] },
  frameTimes: [],
};
// For tests and the curious: a read-only view of what the page knows.
window.playground = {
  get settings() { return state.confirmed; }, // as the server accepted them
  get frame() { return state.frame; },
  get session() { return state.session; },
  get playing() { return state.playing; },
  get busy() { return state.inFlight || state.queue.length > 0; },
  get fps() { return fps(); },
  frames: 0,
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- colours
const NEG = [245, 147, 34];
const MID = [232, 234, 235];
const POS = [8, 119, 189];
const PALETTE = new Uint8ClampedArray(256 * 3); // byte -> colour, 0 = -1, 255 = +1
for (let i = 0; i < 256; i++) {
  const t = i / 255 * 2 - 1;
  const [a, b, u] = t < 0 ? [MID, NEG, -t] : [MID, POS, t];
  for (let c = 0; c < 3; c++) PALETTE[i * 3 + c] = a[c] + (b[c] - a[c]) * u;
}
function colourOf(value) { // value in [-1, 1]
  const i = Math.max(0, Math.min(255, Math.round((value + 1) * 127.5)));
  return `rgb(${PALETTE[i * 3]},${PALETTE[i * 3 + 1]},${PALETTE[i * 3 + 2]})`;
}

function decode(b64) {
  const text = atob(b64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const scratch = document.createElement("canvas");
function drawGrid(canvas, b64, discretize = false) {
  const bytes = decode(b64);
  const size = Math.round(Math.sqrt(bytes.length));
  scratch.width = size;
  scratch.height = size;
  const ctx = scratch.getContext("2d");
  const image = ctx.createImageData(size, size);
  for (let i = 0; i < bytes.length; i++) {
    let v = bytes[i];
    if (discretize) v = v >= 128 ? 255 : 0;
    image.data[i * 4] = PALETTE[v * 3];
    image.data[i * 4 + 1] = PALETTE[v * 3 + 1];
    image.data[i * 4 + 2] = PALETTE[v * 3 + 2];
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = !discretize;
  target.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

// ---------------------------------------------------------------- connection
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  state.socket = socket;
  socket.onmessage = (event) => receive(JSON.parse(event.data));
  socket.onclose = (event) => {
    state.playing = false;
    showPlaying();
    // The server says why when it closes on purpose (e.g. a page left idle too long).
    showError(event.reason
      ? `The connection to the server is closed: ${event.reason}.`
      : "The connection to the server is closed. Restart `mlpzero playground` and reload.");
  };
}

function send(message) {
  if (state.inFlight) {
    if (message.type === "configure") {
      state.queue = state.queue.filter((m) => m.type !== "configure");
    }
    state.queue.push(message);
    return;
  }
  state.inFlight = true;
  state.inFlightType = message.type;
  state.socket.send(JSON.stringify(message));
}

function receive(message) {
  if (message.type === "hello") {
    state.session = message.session;
    state.config = message;
    buildStaticControls();
    send({ type: "configure", settings: settingsFromUrl() });
    return;
  }
  state.inFlight = false;
  state.inFlightType = null;
  if (message.type === "error") {
    showError(`${message.message}`);
    if (!state.configured) {
      // The link held settings the server refused: start from the defaults instead.
      state.configured = true;
      send({ type: "configure", settings: {} });
      return;
    }
    if (state.confirmed) { // undo the refused change
      state.settings = state.confirmed;
      applySettingsToControls(state.settings);
    }
    state.playing = false;
    showPlaying();
  }
  // Ask for the next frame first, then draw this one: the server trains while we draw.
  const next = state.queue.shift();
  if (next) send(next);
  else if (state.playing && message.type === "frame" && !message.diverged) send({ type: "step", epochs: 1 });
  if (message.type === "frame") {
    state.configured = true;
    if (message.diverged) {
      state.playing = false;
      showPlaying();
      showError(message.diverged);
    }
    onFrame(message);
  }
}

// ---------------------------------------------------------------- settings and URL
function settingsFromUrl() {
  const raw = {};
  for (const [key, value] of new URLSearchParams(location.search)) raw[key] = value;
  return raw;
}

function writeUrl(settings) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(settings)) {
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

function change(patch) {
  if (!state.settings) return;
  hideError();
  const next = { ...state.settings, ...patch };
  state.settings = next;
  applySettingsToControls(next);
  send({ type: "configure", settings: next });
}

function readControl(element) {
  const kind = element.dataset.kind;
  if (kind === "bool") return element.checked;
  if (kind === "int") return parseInt(element.value, 10);
  if (kind === "float") return parseFloat(element.value);
  return element.value;
}

function buildStaticControls() {
  for (const element of document.querySelectorAll("[data-setting]")) {
    element.addEventListener("change", () => change({ [element.dataset.setting]: readControl(element) }));
    if (element.type === "range") {
      element.addEventListener("input", () => {
        $(`${element.id}-value`).textContent = element.value;
      });
    }
  }
  $("play").onclick = () => {
    state.playing = !state.playing;
    showPlaying();
    if (state.playing && !state.inFlight && state.queue.length === 0) send({ type: "step", epochs: 1 });
  };
  $("step").onclick = () => { state.playing = false; showPlaying(); send({ type: "step", epochs: 1 }); };
  $("reset").onclick = () => { resetHistory(); send({ type: "reset" }); };
  $("regenerate").onclick = () => change({ seed: (state.settings.seed + 1) % (state.config.limits.max_seed + 1) });
  $("add-layer").onclick = () => {
    const hidden = state.settings.hidden;
    if (hidden.length < state.config.limits.max_layers) change({ hidden: [...hidden, 2] });
  };
  $("remove-layer").onclick = () => {
    const hidden = state.settings.hidden;
    if (hidden.length > 0) change({ hidden: hidden.slice(0, -1) });
  };
  $("export-model").onclick = () => download("model");
  $("export-code").onclick = () => download("code");
}

function ensureOption(select, value) {
  const text = String(value);
  if (![...select.options].some((o) => parseFloat(o.value) === value || o.value === text)) {
    const option = document.createElement("option");
    option.textContent = text;
    select.appendChild(option);
  }
  for (const o of select.options) if (parseFloat(o.value) === value || o.value === text) o.selected = true;
}

function applySettingsToControls(s) {
  for (const element of document.querySelectorAll("[data-setting]")) {
    const value = s[element.dataset.setting];
    if (element.dataset.kind === "bool") element.checked = Boolean(value);
    else if (element.tagName === "SELECT" && element.dataset.kind === "float") ensureOption(element, value);
    else {
      if (element.type === "range" && value > Number(element.max)) element.max = value;
      element.value = value;
    }
    if (element.type === "range") $(`${element.id}-value`).textContent = value;
  }
  renderDatasets(s);
  $("layer-count").textContent = s.hidden.length;
  $("layer-word").textContent = s.hidden.length === 1 ? "hidden layer" : "hidden layers";
}

function renderDatasets(s) {
  const box = $("datasets");
  const names = state.config.datasets[s.problem];
  box.innerHTML = "";
  for (const name of names) {
    const button = document.createElement("button");
    const preview = document.createElement("canvas");
    preview.width = 48;
    preview.height = 48;
    drawPreview(preview, state.config.previews[name] || [], s.problem === "classification");
    button.appendChild(preview);
    button.appendChild(document.createTextNode(DATASET_LABELS[name] || name));
    button.dataset.dataset = name;
    button.id = `dataset-${name}`;
    if (name === s.dataset) button.classList.add("selected");
    button.onclick = () => change({ dataset: name });
    box.appendChild(button);
  }
}

function drawPreview(canvas, points, classify) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (const [x1, x2, y] of points) {
    const [px, py] = toPixel(canvas, x1, x2);
    ctx.fillStyle = classify ? (y > 0.5 ? `rgb(${POS})` : `rgb(${NEG})`) : colourOf(y);
    ctx.fillRect(px - 1, py - 1, 2.5, 2.5);
  }
}

// the problem type decides which datasets exist: switch to the first of the new kind
document.addEventListener("change", (event) => {
  if (event.target.id === "problem" && state.config) {
    const problem = event.target.value;
    const first = state.config.datasets[problem][0];
    if (state.settings && !state.config.datasets[problem].includes(state.settings.dataset)) {
      state.settings = { ...state.settings, dataset: first };
    }
  }
}, true);

// ---------------------------------------------------------------- frames
function resetHistory() {
  state.history = { epoch: [], train: [], test: [], grad: [], dead: [] };
}

function onFrame(frame) {
  const restarted = frame.epoch === 0 || !state.frame || frame.epoch < state.frame.epoch;
  if (restarted) resetHistory();
  state.frame = frame;
  if (frame.feature_maps) state.featureMaps = frame.feature_maps;
  if (frame.data) {
    state.data = frame.data;
    pointsLayer = null;
  }
  const key = JSON.stringify(frame.settings);
  if (key !== state.settingsKey) {
    // only when the settings changed: browsers throttle frequent URL updates
    state.settingsKey = key;
    state.confirmed = frame.settings;
    writeUrl(frame.settings);
    // A change the user made meanwhile is still on its way: keep showing it.
    const pending = state.inFlightType === "configure" || state.queue.some((m) => m.type === "configure");
    if (!pending) {
      state.settings = frame.settings;
      applySettingsToControls(frame.settings);
    }
    pointsLayer = null;
  }
  const h = state.history;
  if (h.epoch.length && h.epoch[h.epoch.length - 1] === frame.epoch) {
    draw(); // the same epoch again (a view setting changed): redraw, no new chart point
    return;
  }
  h.epoch.push(frame.epoch);
  h.train.push(frame.train_loss);
  h.test.push(frame.test_loss);
  h.grad.push(frame.grad_norms);
  h.dead.push(frame.dead_relu);
  const now = performance.now();
  state.frameTimes.push(now);
  while (state.frameTimes.length && now - state.frameTimes[0] > 2000) state.frameTimes.shift();
  window.playground.frames += 1;
  const started = performance.now();
  draw();
  window.playground.drawMs = performance.now() - started;
}

function fps() {
  const t = state.frameTimes;
  if (t.length < 2) return 0;
  return (t.length - 1) / ((t[t.length - 1] - t[0]) / 1000);
}

function formatLoss(value) { return value === null || value === undefined ? "–" : value.toFixed(3); }

function draw() {
  const f = state.frame;
  const s = state.confirmed; // draw the network the frame came from
  $("epoch").textContent = String(f.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  $("train-loss").textContent = formatLoss(f.train_loss);
  $("test-loss").textContent = formatLoss(f.test_loss);
  drawGrid($("heatmap"), f.output, s.discretize);
  drawPoints($("heatmap"));
  drawNetwork();
  const h = state.history;
  drawChart($("loss-chart"), [
    { values: h.test, colour: "#000" },
    { values: h.train, colour: "#999" },
  ], {});
  const layers = f.grad_norms.length;
  drawChart($("grad-chart"), Array.from({ length: layers }, (_, l) => ({
    values: h.grad.map((g) => (g && g[l] !== undefined ? g[l] : null)),
    colour: layerColour(l, layers),
  })), { log: true });
  $("grad-legend").innerHTML = f.grad_norms.map((g, l) =>
    `<span style="color:${layerColour(l, layers)}">W${l + 1}: ${g === null ? "–" : g.toExponential(1)}</span>`).join("");
  $("dead-value").textContent = f.dead_relu === null ? "(ReLU only)" : `${Math.round(f.dead_relu * 100)}%`;
  drawChart($("dead-chart"), [{ values: h.dead, colour: "#c0392b" }], { min: 0, max: 1 });
  $("fps").textContent = state.playing ? fps().toFixed(0) : "–";
}

function layerColour(l, n) {
  const hue = n <= 1 ? 210 : 210 - (l / (n - 1)) * 180;
  return `hsl(${hue}, 70%, 45%)`;
}

function toPixel(canvas, x1, x2) {
  return [(x1 + DOMAIN) / (2 * DOMAIN) * canvas.width, (DOMAIN - x2) / (2 * DOMAIN) * canvas.height];
}

let pointsLayer = null; // the data points, drawn once per data set and view setting

function drawPoints(canvas) {
  if (!state.data) return;
  if (!pointsLayer) {
    pointsLayer = document.createElement("canvas");
    pointsLayer.width = canvas.width;
    pointsLayer.height = canvas.height;
    renderPoints(pointsLayer);
  }
  canvas.getContext("2d").drawImage(pointsLayer, 0, 0);
}

function renderPoints(canvas) {
  const ctx = canvas.getContext("2d");
  const classify = state.confirmed.problem === "classification";
  const sets = [[state.data.train, "#fff"]];
  if (state.confirmed.show_test) sets.push([state.data.test, "#000"]);
  for (const [points, stroke] of sets) {
    for (const [x1, x2, y] of points) {
      const [px, py] = toPixel(canvas, x1, x2);
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      ctx.fillStyle = classify ? (y > 0.5 ? `rgb(${POS})` : `rgb(${NEG})`) : colourOf(y);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    }
  }
}

function drawChart(canvas, series, { log = false, min = null, max = null }) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const tf = (v) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  let lo = Infinity;
  let hi = -Infinity;
  for (const { values } of series) {
    for (const v of values) {
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      lo = Math.min(lo, tf(v));
      hi = Math.max(hi, tf(v));
    }
  }
  if (min !== null) lo = min;
  if (max !== null) hi = max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
  if (!log && min === null) lo = Math.min(lo, 0);
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  for (const { values, colour } of series) {
    const n = values.length;
    if (n === 0) continue;
    ctx.beginPath();
    let started = false;
    values.forEach((v, i) => {
      if (v === null || v === undefined || !Number.isFinite(v)) { started = false; return; }
      const x = n === 1 ? 0 : (i / (n - 1)) * (canvas.width - 2) + 1;
      const y = canvas.height - 2 - ((tf(v) - lo) / (hi - lo)) * (canvas.height - 4);
      if (started) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      started = true;
    });
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}

// ---------------------------------------------------------------- the network diagram
let nodeLayout = null; // positions of every node, rebuilt when the architecture changes

function architectureKey(s) { return `${s.features.join(",")}|${s.hidden.join(",")}`; }

function layoutNetwork() {
  const s = state.confirmed;
  const area = $("network");
  const key = architectureKey(s);
  if (nodeLayout && nodeLayout.key === key) return nodeLayout;
  for (const element of area.querySelectorAll(".node, .node-label, .layer-head")) element.remove();
  const allFeatures = Object.keys(state.config.features);
  const columns = s.hidden.length + 2; // inputs, hidden..., output
  const width = Math.max(area.clientWidth, 420);
  const left = 64;
  const gap = (width - left - NODE - 10) / (columns - 1);
  const x = (c) => left + c * gap;
  const height = TOP + Math.max(allFeatures.length, ...s.hidden, 1) * ROW;
  area.style.height = `${height}px`;
  const layout = { key, columns: [] };

  // inputs: every feature, the chosen ones lit
  const inputs = [];
  allFeatures.forEach((name, i) => {
    const on = s.features.includes(name);
    const node = makeNode(x(0), TOP + i * ROW, `feature ${on ? "" : "off"}`, `input ${state.config.features[name]}`);
    node.id = `feature-${name}`;
    node.title = on ? "Click to remove this input" : "Click to add this input";
    node.onclick = () => {
      // From the settings shown, which include a change still on its way to the server.
      const current = state.settings.features;
      const chosen = current.includes(name) ? current.filter((f) => f !== name) : [...current, name];
      if (chosen.length === 0) { showError("Keep at least one input feature."); return; }
      change({ features: allFeatures.filter((f) => chosen.includes(f)) });
    };
    const label = document.createElement("div");
    label.className = "node-label";
    label.textContent = state.config.features[name];
    label.style.left = `${x(0) - 66}px`;
    label.style.top = `${TOP + i * ROW + 10}px`;
    area.appendChild(label);
    if (state.featureMaps) {
      node.dataset.grid = state.featureMaps[name];
      drawGrid(node.querySelector("canvas"), node.dataset.grid);
    }
    if (on) inputs.push({ node, x: x(0), y: TOP + i * ROW });
  });
  layout.columns.push(inputs);

  // hidden layers, with +/- buttons per layer
  s.hidden.forEach((count, l) => {
    const head = document.createElement("div");
    head.className = "layer-head";
    head.style.left = `${x(l + 1) - 22}px`;
    head.style.top = "0px";
    head.style.width = `${NODE + 44}px`;
    head.innerHTML = `<button class="round" data-layer="${l}" data-delta="1" title="Add a neuron">+</button>
      <button class="round" data-layer="${l}" data-delta="-1" title="Remove a neuron">&minus;</button>
      <div>${count} neuron${count === 1 ? "" : "s"}</div>`;
    for (const button of head.querySelectorAll("button")) {
      button.onclick = () => {
        const hidden = [...state.settings.hidden];
        const next = hidden[l] + Number(button.dataset.delta);
        if (next >= 1 && next <= state.config.limits.max_neurons) {
          hidden[l] = next;
          change({ hidden });
        }
      };
    }
    area.appendChild(head);
    const column = [];
    for (let j = 0; j < count; j++) {
      const node = makeNode(x(l + 1), TOP + j * ROW, "hidden", `layer ${l + 1}, neuron ${j + 1}`);
      node.id = `neuron-${l + 1}-${j + 1}`;
      column.push({ node, x: x(l + 1), y: TOP + j * ROW });
    }
    layout.columns.push(column);
  });

  const out = makeNode(x(columns - 1), TOP, "out-node", "output");
  out.id = "neuron-output";
  layout.columns.push([{ node: out, x: x(columns - 1), y: TOP }]);

  const links = $("links");
  links.width = width;
  links.height = height;
  nodeLayout = layout;
  return layout;
}

function makeNode(left, top, kind, title) {
  const node = document.createElement("div");
  node.className = `node ${kind}`;
  node.style.left = `${left}px`;
  node.style.top = `${top}px`;
  const canvas = document.createElement("canvas");
  canvas.width = NODE;
  canvas.height = NODE;
  node.appendChild(canvas);
  node.dataset.title = title;
  node.addEventListener("mouseenter", () => showHover(node));
  node.addEventListener("mouseleave", () => { $("hover-card").hidden = true; });
  $("network").appendChild(node);
  return node;
}

function showHover(node) {
  if (!node.dataset.grid) return;
  const card = $("hover-card");
  $("hover-title").textContent = node.dataset.title;
  drawGrid($("hover-canvas"), node.dataset.grid);
  const right = node.offsetLeft + NODE + 12;
  const fits = right + 180 <= $("network").clientWidth;
  card.style.left = `${fits ? right : node.offsetLeft - 190}px`; // keep the card in the column
  card.style.top = `${node.offsetTop + $("network").offsetTop}px`;
  card.hidden = false;
}

function drawNetwork() {
  const f = state.frame;
  const layout = layoutNetwork();
  layout.columns.forEach((column, c) => {
    const grids = f.neurons[c] || [];
    column.forEach((entry, j) => {
      if (!grids[j]) return;
      entry.node.dataset.grid = grids[j];
      drawGrid(entry.node.querySelector("canvas"), grids[j]);
    });
  });
  // links: colour by the weight's sign, width by its size
  const links = $("links");
  const ctx = links.getContext("2d");
  ctx.clearRect(0, 0, links.width, links.height);
  for (let l = 0; l < f.weights.length; l++) {
    const from = layout.columns[l];
    const to = layout.columns[l + 1];
    const W = f.weights[l];
    to.forEach((b, j) => {
      from.forEach((a, i) => {
        const w = W[j] && W[j][i];
        if (w === undefined || w === null) return;
        ctx.beginPath();
        ctx.moveTo(a.x + NODE, a.y + NODE / 2);
        const mid = (a.x + NODE + b.x) / 2;
        ctx.bezierCurveTo(mid, a.y + NODE / 2, mid, b.y + NODE / 2, b.x, b.y + NODE / 2);
        ctx.strokeStyle = w >= 0 ? `rgba(${POS},0.8)` : `rgba(${NEG},0.8)`;
        ctx.lineWidth = Math.min(0.4 + Math.abs(w) * 1.5, 7);
        ctx.stroke();
      });
    });
  }
}

// ---------------------------------------------------------------- export and errors
async function download(kind) {
  hideError();
  const response = await fetch(`/api/export/${state.session}/${kind}`);
  if (!response.ok) {
    let message = `${response.status}`;
    try { message = (await response.json()).error; } catch (_) { /* keep the status */ }
    showError(`Export failed: ${message}`);
    return;
  }
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename="([^"]+)"/);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = match ? match[1] : `playground-${kind}`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function hideError() { $("error").hidden = true; }

function showPlaying() {
  const button = $("play");
  button.classList.toggle("playing", state.playing);
  button.innerHTML = state.playing ? "&#x275a;&#x275a;" : "&#x25b6;";
}

connect();
