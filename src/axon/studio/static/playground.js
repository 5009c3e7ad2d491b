// The playground page: sends the controls' settings and commands, draws the frames the server sends.
"use strict";

const pg = {
  run: null, settings: null, info: null, frame: null, points: null, curve: [], generation: null,
  frames: 0, rateCount: 0, rateStart: performance.now(), structure: "",
};
window.playground = pg;  // for the end-to-end tests and the curious

const $ = (id) => document.getElementById(id);
const ICON_PLAY = '<svg width="18" height="18" viewBox="0 0 18 18"><path d="M5 3l10 6-10 6z" fill="currentColor"/></svg>';
const ICON_PAUSE = '<svg width="18" height="18" viewBox="0 0 18 18"><path d="M4 3h4v12H4zM10 3h4v12h-4z" fill="currentColor"/></svg>';

function send(msg) { pg.sock.send(msg); }
function set(values) { send({ type: "set", settings: values }); }

// -- the URL ---------------------------------------------------------------------------------------------
function shareQuery() {
  return Studio.toQuery(pg.frame ? pg.frame.query : {});
}
function writeUrl() {
  if (!pg.frame) return;
  const q = Object.assign({}, pg.frame.query);
  if (!q.hide) delete q.hide;
  const hash = "#" + Studio.toQuery(q) + "&run=" + pg.run;
  if (hash !== location.hash) history.replaceState(null, "", hash);  // browsers throttle this
}

// -- controls -> server ---------------------------------------------------------------------------------------
function bindControls() {
  document.querySelectorAll("[data-key]").forEach((el) => {
    const key = el.dataset.key;
    const event = el.type === "range" ? "input" : "change";
    el.addEventListener(event, () => {
      if (el.type === "range") $(key + "-v").textContent = el.value;
      set({ [key]: el.type === "checkbox" ? (el.checked ? 1 : 0) : el.value });
    });
  });
  $("play").onclick = () => send({ type: pg.frame && pg.frame.status === "playing" ? "pause" : "play" });
  $("step-batch").onclick = () => send({ type: "step", what: "batch" });
  $("step-epoch").onclick = () => send({ type: "step", what: "epoch" });
  $("reset").onclick = () => send({ type: "reset" });
  $("new-seed").onclick = () => set({ seed: Math.floor(Math.random() * 100000) });
  $("add-layer").onclick = () => {
    const layers = pg.settings.layers.slice();
    if (layers.length >= pg.info.max_layers) return Studio.toast("at most " + pg.info.max_layers + " hidden layers");
    layers.push(layers.length ? layers[layers.length - 1] : 4);
    const acts = pg.settings.acts.slice();
    acts.push(acts.length ? acts[acts.length - 1] : "tanh");
    set({ layers: layers.join(","), acts: acts.join(",") });
  };
  $("remove-layer").onclick = () => {
    const layers = pg.settings.layers.slice(0, -1);
    set({ layers: layers.join(","), acts: pg.settings.acts.slice(0, layers.length).join(",") });
  };
  $("share").onclick = async () => {
    const url = location.origin + location.pathname + "#" + shareQuery();
    $("share").dataset.url = url;
    try { await navigator.clipboard.writeText(url); Studio.toast("link copied: " + url, "info"); }
    catch (e) { Studio.toast(url, "info"); }  // no clipboard here: show it
  };
  $("lesson").onclick = () => set({ hide: "all" });
  $("show-controls").onclick = (ev) => { ev.preventDefault(); set({ hide: "" }); };
  $("export-script").onclick = () => Studio.download(
    "/api/playground/" + pg.run + "/script?query=" + encodeURIComponent(shareQuery()), "playground.py")
    .catch((e) => Studio.toast(e.message));
  $("export-model").onclick = () => Studio.download("/api/playground/" + pg.run + "/model", "playground.axon")
    .catch((e) => Studio.toast(e.message));
}

// -- server -> controls -------------------------------------------------------------------------------------------
function showSettings(s) {
  const old = pg.settings;
  pg.settings = s;
  const ds = $("dataset");
  const names = pg.info.datasets[s.problem];
  if (ds.dataset.problem !== s.problem) {
    ds.innerHTML = names.map((n) => "<option>" + n + "</option>").join("");
    ds.dataset.problem = s.problem;
  }
  document.querySelectorAll("[data-key]").forEach((el) => {
    if (el === document.activeElement && el.type !== "range") return;  // the user is typing there
    const v = s[el.dataset.key];
    if (v === undefined || Array.isArray(v)) return;
    if (el.type === "checkbox") { el.checked = !!v; return; }
    let text = String(v);
    if (el.tagName === "SELECT" && ![...el.options].some((o) => (o.value || o.text) === text)) {
      const o = document.createElement("option"); o.text = text; el.add(o);  // a value typed into the URL
    }
    el.value = text;
    if (el.type === "range") $(el.dataset.key + "-v").textContent = text;
  });
  const multi = s.problem === "classification" && pg.info.multiclass.includes(s.dataset);
  $("classes-box").style.display = multi ? "" : "none";
  $("legend").style.display = multi && s.classes > 2 ? "none" : "";  // classes have colours, not a scale
  $("n-layers").textContent = s.layers.length;
  const hide = new Set(s.hide);
  document.querySelectorAll("[data-panel]").forEach((el) => el.classList.toggle("hidden-panel", hide.has(el.dataset.panel)));
  $("show-controls").style.display = hide.size ? "" : "none";
  if (!old || old.show_test !== s.show_test) drawPoints();
  if (!old || JSON.stringify(old.features) !== JSON.stringify(s.features) || JSON.stringify(old.layers) !== JSON.stringify(s.layers)
      || JSON.stringify(old.acts) !== JSON.stringify(s.acts) || old.problem !== s.problem || old.classes !== s.classes
      || old.dataset !== s.dataset || JSON.stringify(old.hide) !== JSON.stringify(s.hide)) buildNetwork(s);
}

// The columns: features, each hidden layer, the output; one small canvas per neuron.
function buildNetwork(s) {
  const cols = $("cols");
  cols.innerHTML = "";
  const hide = new Set(s.hide);
  const feat = column("Features", "features");
  for (const f of Object.keys(pg.info.features)) {
    const on = s.features.includes(f);
    const n = neuron(feat, "feature" + (on ? "" : " off"));
    n.title = on ? "click to stop using " + pg.info.features[f] : "click to use " + pg.info.features[f];
    n.dataset.feature = f;
    const tag = document.createElement("span"); tag.className = "tag"; tag.textContent = pg.info.features[f];
    n.appendChild(tag);
    if (!hide.has("features")) n.onclick = () => {
      const now = new Set(pg.settings.features);
      if (now.has(f)) now.delete(f); else now.add(f);
      if (!now.size) return Studio.toast("keep at least one input feature");
      set({ features: Object.keys(pg.info.features).filter((x) => now.has(x)).join(",") });
    };
  }
  s.layers.forEach((width, i) => {
    const col = column("", "layers");
    const head = col.querySelector(".head");
    head.innerHTML = "";
    const row = document.createElement("div");
    row.className = "row"; row.style.justifyContent = "center";
    if (!hide.has("layers")) {
      const minus = document.createElement("button"); minus.textContent = "−"; minus.title = "one neuron less";
      const plus = document.createElement("button"); plus.textContent = "+"; plus.title = "one neuron more";
      minus.onclick = () => changeWidth(i, -1); plus.onclick = () => changeWidth(i, +1);
      minus.className = "w-minus"; plus.className = "w-plus";
      row.append(minus, plus);
    }
    head.appendChild(row);
    const label = document.createElement("div"); label.textContent = width + (width === 1 ? " neuron" : " neurons");
    head.appendChild(label);
    const sel = document.createElement("select");
    sel.className = "act"; sel.title = "activation of this layer";
    sel.innerHTML = pg.info.activations.map((a) => "<option>" + a + "</option>").join("");
    sel.value = s.acts[i];
    sel.onchange = () => { const acts = pg.settings.acts.slice(); acts[i] = sel.value; set({ acts: acts.join(",") }); };
    if (hide.has("layers")) sel.disabled = true;
    head.appendChild(sel);
    for (let j = 0; j < width; j++) neuron(col, "");
  });
  const nOut = s.problem === "classification" && s.classes > 2 && pg.info.multiclass.includes(s.dataset) ? s.classes : 1;
  const out = column("Output", null);
  for (let j = 0; j < nOut; j++) neuron(out, "");
  pg.structure = JSON.stringify([s.features, s.layers, nOut]);
  pg.wires = null;
  requestAnimationFrame(() => { layoutWires(); if (pg.frame) drawFrame(pg.frame); });
}

function column(title, panel) {
  const col = document.createElement("div");
  col.className = "pg-col";
  const head = document.createElement("div");
  head.className = "head"; head.textContent = title;
  col.appendChild(head);
  if (panel) col.dataset.kind = panel;
  $("cols").appendChild(col);
  return col;
}

function neuron(col, cls) {
  const n = document.createElement("div");
  n.className = "neuron " + cls;
  const c = document.createElement("canvas");
  c.width = 32; c.height = 32;
  n.appendChild(c);
  col.appendChild(n);
  return n;
}

function changeWidth(i, delta) {
  const layers = pg.settings.layers.slice();
  const w = layers[i] + delta;
  if (w < 1 || w > pg.info.max_width) return Studio.toast("a layer has 1 to " + pg.info.max_width + " neurons");
  layers[i] = w;
  set({ layers: layers.join(",") });
}

// The weights as curves between the neurons (drawn on a canvas: SVG paths cost far more to repaint).
function layoutWires() {
  const canvas = $("wires");
  const net = canvas.parentElement.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(net.width * dpr); canvas.height = Math.round(net.height * dpr);
  const cols = [...$("cols").children].map((col) => [...col.querySelectorAll(".neuron")]
    .filter((n) => !n.classList.contains("off")));
  const edge = (n, side) => {
    const r = n.getBoundingClientRect();
    return [(side > 0 ? r.right : r.left) - net.left, r.top + r.height / 2 - net.top];
  };
  pg.wires = [];
  for (let l = 0; l + 1 < cols.length; l++) {
    pg.wires.push(cols[l].map((a) => cols[l + 1].map((b) => [...edge(a, +1), ...edge(b, -1)])));
  }
  pg.wiresDpr = dpr;
}

function drawWires(weights) {
  const canvas = $("wires");
  const ctx = canvas.getContext("2d");
  ctx.setTransform(pg.wiresDpr || 1, 0, 0, pg.wiresDpr || 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!pg.wires) return;
  weights.forEach((W, l) => {
    const layer = pg.wires[l];
    if (!layer) return;
    let top = 1e-9;
    for (const row of W) for (const w of row) top = Math.max(top, Math.abs(w));
    for (let i = 0; i < W.length && i < layer.length; i++) for (let j = 0; j < W[i].length && j < layer[i].length; j++) {
      const w = W[i][j], r = Math.abs(w) / top;  // thickness relative to the layer's largest weight
      const [x1, y1, x2, y2] = layer[i][j], mx = (x1 + x2) / 2;
      ctx.strokeStyle = w >= 0 ? "#0877bd" : "#f59322";
      ctx.globalAlpha = 0.25 + 0.75 * r;
      ctx.lineWidth = 0.3 + 4 * r;
      ctx.beginPath(); ctx.moveTo(x1, y1); ctx.bezierCurveTo(mx, y1, mx, y2, x2, y2); ctx.stroke();
    }
  });
  ctx.globalAlpha = 1;
}

// -- drawing a frame ---------------------------------------------------------------------------------------------
function drawFrame(f) {
  const small = f.grid / 2;
  const cols = [...$("cols").children];
  // features: only the used ones have a map (columns[0] is in the order of settings.features)
  const featNodes = [...cols[0].querySelectorAll(".neuron")];
  let k = 0;
  featNodes.forEach((n) => {
    const c = n.querySelector("canvas");
    if (n.classList.contains("off")) { c.getContext("2d").clearRect(0, 0, c.width, c.height); return; }
    if (f.columns[0][k]) Studio.heatB64(c, f.columns[0][k], small);
    k++;
  });
  for (let l = 1; l < cols.length; l++) {
    const nodes = [...cols[l].querySelectorAll(".neuron canvas")];
    const maps = f.columns[l] || [];
    const side = l === cols.length - 1 ? f.grid : small;
    nodes.forEach((c, j) => { if (maps[j]) drawNeuron(c, maps, j, side, l === cols.length - 1, f); });
  }
  drawOutput(f);
  drawWires(f.weights);
}

function drawNeuron(canvas, maps, j, side, isOutput, f) {
  if (isOutput && maps.length > 1) return drawClasses(canvas, maps, side, j);
  Studio.heatB64(canvas, maps[j], side);
}

// Several classes: each point coloured by the classes' colours weighted by their probabilities.
function drawClasses(canvas, maps, side, only) {
  const probs = maps.map((m, k) => (only === undefined || k === only ? Studio.decode(m).map((v) => (v + 1) / 2) : null));
  if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    let r = 0, g = 0, b = 0;
    if (only !== undefined) {
      const p = probs[only][i], c = Studio.CLASS_COLORS[only % 4];
      r = 255 + (c[0] - 255) * p; g = 255 + (c[1] - 255) * p; b = 255 + (c[2] - 255) * p;
    } else {
      let top = 0;
      for (let k = 0; k < probs.length; k++) {
        const c = Studio.CLASS_COLORS[k % 4], p = probs[k][i];
        r += c[0] * p; g += c[1] * p; b += c[2] * p; top = Math.max(top, p);
      }
      const fade = 0.35 + 0.65 * top;  // uncertain regions lighter
      r = 255 + (r - 255) * fade; g = 255 + (g - 255) * fade; b = 255 + (b - 255) * fade;
    }
    img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function drawOutput(f) {
  const maps = f.columns[f.columns.length - 1];
  const canvas = $("out-heat");
  if (maps.length > 1) drawClasses(canvas, maps, f.grid);
  else Studio.heatB64(canvas, maps[0], f.grid);
  $("train-loss").textContent = Studio.fmt(f.train_loss);
  $("test-loss").textContent = Studio.fmt(f.test_loss);
  $("accs").textContent = f.train_acc !== undefined ? "accuracy " + Studio.fmt(f.train_acc, 2) + " / test " + Studio.fmt(f.test_acc, 2) : "";
}

function pointColor(t) {
  const p = pg.points;
  if (p.problem === "regression") return Studio.css(Studio.color(t / (p.y_scale || 1)));
  if (p.classes > 2) return Studio.css(Studio.CLASS_COLORS[t % 4]);
  return Studio.css(t > 0.5 ? Studio.color(1) : Studio.color(-1));
}

function drawPoints() {
  const canvas = $("out-points");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!pg.points) return;
  const D = pg.points.domain, W = canvas.width;
  const X = (x) => (x + D) / (2 * D) * W, Y = (y) => (1 - (y + D) / (2 * D)) * W;
  const sets = [["train", "#fff"]];
  if (pg.settings && pg.settings.show_test) sets.push(["test", "#000"]);
  for (const [name, stroke] of sets) {
    for (const [x1, x2, t] of pg.points[name]) {
      ctx.beginPath(); ctx.arc(X(x1), Y(x2), 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = pointColor(t); ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = stroke; ctx.stroke();
    }
  }
}

function drawCurve() {
  Studio.chart($("curve"), [
    { name: "test", points: pg.curve.map((p) => [p[1], p[3]]), color: "#333" },
    { name: "train", points: pg.curve.map((p) => [p[1], p[2]]), color: "#999", dash: true },
  ], { title: "loss by epoch", zero: true });
}

// -- messages --------------------------------------------------------------------------------------------------------
function onMessage(msg) {
  if (msg.type === "hello") {
    pg.run = msg.run;
    $("conn").textContent = "";
  } else if (msg.type === "points") {
    pg.points = msg;
    drawPoints();
  } else if (msg.type === "history") {
    pg.curve = msg.points;
    pg.curveAt = 0;
    pg.generation = msg.generation;
  } else if (msg.type === "frame") {
    pg.frame = msg;
    const settingsText = JSON.stringify(msg.settings);
    if (settingsText !== pg.settingsText) { pg.settingsText = settingsText; showSettings(msg.settings); }
    const structure = JSON.stringify([msg.settings.features, msg.settings.layers,
      msg.columns[msg.columns.length - 1].length]);
    if (structure !== pg.structure) buildNetwork(msg.settings);
    const last = pg.curve[pg.curve.length - 1];
    if (!last || last[0] !== msg.step) pg.curve.push([msg.step, msg.epoch_float, msg.train_loss, msg.test_loss]);
    if (pg.curve.length > 3000) pg.curve = pg.curve.filter((_, i) => i % 2 === 0 || i === pg.curve.length - 1);
    drawFrame(msg);
    const now = performance.now();
    if (!pg.curveAt || now - pg.curveAt > 250 || msg.status !== "playing") { drawCurve(); pg.curveAt = now; }
    $("epoch").textContent = String(msg.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    $("step").textContent = msg.step;
    $("play").innerHTML = msg.status === "playing" ? ICON_PAUSE : ICON_PLAY;
    $("play").dataset.status = msg.status;
    $("note").textContent = msg.note || "";
    pg.frames++;
    pg.rateCount++;
    if (now - pg.rateStart > 1000) {
      $("rate").textContent = msg.status === "playing" ? Math.round(pg.rateCount * 1000 / (now - pg.rateStart)) : "–";
      pg.rateCount = 0; pg.rateStart = now;
    }
    writeUrl();
    send({ type: "ack" });  // drawn: the server may send the next one
  } else if (msg.type === "error") {
    Studio.toast(msg.message);
  }
}

async function main() {
  $("play").innerHTML = ICON_PLAY;
  const info = await Studio.api("/api/info");
  pg.info = info.playground;
  bindControls();
  const hash = Studio.parseHash();
  const run = hash.run || null;
  delete hash.run;
  pg.sock = Studio.socket("/ws/playground", {
    open: (sock) => sock.send({ type: "open", run: pg.run || run, settings: hash, ack: true }),
    message: onMessage,
    lost: () => { $("conn").textContent = "reconnecting…"; },
  });
  window.addEventListener("resize", () => { layoutWires(); if (pg.frame) drawFrame(pg.frame); });
}

main().catch((e) => Studio.toast(e.message));
