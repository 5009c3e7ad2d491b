// The look-inside page: a model, one drawn input, every layer's a and δ, units switched off.
"use strict";

const ins = { model: null, desc: null, off: {}, label: null, result: null, results: 0, pending: false, dirty: false };
window.inside = ins;  // for the end-to-end tests

const $ = (id) => document.getElementById(id);
const GRID = 64;  // the drawing is sent as a GRID x GRID grid of ink values

// -- the drawing ------------------------------------------------------------------------------------------------
const pad = $("draw");
const ctx = pad.getContext("2d");
function clearPad() { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height); }
clearPad();
let drawing = false, lastPt = null;
function pt(ev) { const r = pad.getBoundingClientRect(); return [(ev.clientX - r.left) * pad.width / r.width, (ev.clientY - r.top) * pad.height / r.height]; }
pad.addEventListener("pointerdown", (ev) => { drawing = true; lastPt = pt(ev); pad.setPointerCapture(ev.pointerId); stroke(ev); });
pad.addEventListener("pointermove", (ev) => { if (drawing) stroke(ev); });
pad.addEventListener("pointerup", () => { drawing = false; analyse(); });
function stroke(ev) {
  const p = pt(ev);
  ctx.strokeStyle = "#000"; ctx.lineWidth = 20; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(lastPt[0], lastPt[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
  lastPt = p;
  schedule();
}
$("clear").onclick = () => { clearPad(); ins.result = null; render(); };
$("centre").onchange = () => analyse();

// An image dropped on the square is drawn into it (light paper or dark paper: the ink is what differs).
pad.addEventListener("dragover", (ev) => { ev.preventDefault(); pad.classList.add("drop"); });
pad.addEventListener("dragleave", () => pad.classList.remove("drop"));
pad.addEventListener("drop", (ev) => {
  ev.preventDefault(); pad.classList.remove("drop");
  const file = ev.dataTransfer.files[0];
  if (file) loadImage(file);
});
function loadImage(file) {
  if (!file.type.startsWith("image/")) return Studio.toast("drop an image file (PNG, JPEG, ...)");
  const img = new Image();
  img.onload = () => {
    clearPad();
    const s = Math.min(pad.width / img.width, pad.height / img.height);
    ctx.drawImage(img, (pad.width - img.width * s) / 2, (pad.height - img.height * s) / 2, img.width * s, img.height * s);
    const d = ctx.getImageData(0, 0, pad.width, pad.height).data;
    let mean = 0;
    for (let i = 0; i < d.length; i += 4) mean += (d[i] + d[i + 1] + d[i + 2]) / 765;
    mean /= d.length / 4;
    if (mean < 0.5) {  // light ink on dark paper (as MNIST): turn it into dark ink on white
      const im = ctx.getImageData(0, 0, pad.width, pad.height);
      for (let i = 0; i < im.data.length; i += 4) for (let c = 0; c < 3; c++) im.data[i + c] = 255 - im.data[i + c];
      ctx.putImageData(im, 0, 0);
    }
    URL.revokeObjectURL(img.src);
    analyse();
  };
  img.onerror = () => Studio.toast("this image could not be read");
  img.src = URL.createObjectURL(file);
}

function pixels() {
  const small = document.createElement("canvas");
  small.width = GRID; small.height = GRID;
  const sctx = small.getContext("2d");
  sctx.imageSmoothingEnabled = true; sctx.imageSmoothingQuality = "high";
  sctx.drawImage(pad, 0, 0, GRID, GRID);
  const d = sctx.getImageData(0, 0, GRID, GRID).data;
  const rows = [];
  let ink = 0;
  for (let r = 0; r < GRID; r++) {
    const row = [];
    for (let c = 0; c < GRID; c++) {
      const i = 4 * (r * GRID + c);
      const v = Math.max(0, Math.min(1, 1 - (d[i] + d[i + 1] + d[i + 2]) / 765));
      row.push(Math.round(v * 1000) / 1000); ink += v;
    }
    rows.push(row);
  }
  return ink > 0 ? rows : null;
}

// -- talking to the server -----------------------------------------------------------------------------------------
let timer = null;
function schedule() { if (!timer) timer = setTimeout(() => { timer = null; analyse(); }, 150); }

async function analyse() {
  if (!ins.model || !ins.desc) return;
  const body = { off: ins.off };
  if (ins.label !== null) body.label = ins.label;
  if (ins.desc.image) {
    const px = pixels();
    if (!px) return;
    body.pixels = px; body.mode = $("centre").checked ? "digit" : "image";
  } else {
    const text = $("inputs").value.trim();
    if (!text) return;
    body.inputs = text.split(/[\s,;]+/).filter((t) => t).map(Number);
  }
  if (ins.pending) { ins.dirty = true; return; }  // one request at a time; the last drawing wins
  ins.pending = true;
  try {
    ins.result = await Studio.api("/api/models/" + ins.model + "/analyse", { body: body });
    ins.results++;
    render();
  } catch (e) {
    Studio.toast(e.message);
  } finally {
    ins.pending = false;
    if (ins.dirty) { ins.dirty = false; analyse(); }
  }
}

async function loadModels(select) {
  const r = await Studio.api("/api/models");
  const sel = $("model");
  sel.innerHTML = r.models.map((m) => "<option value='" + m.id + "'></option>").join("");
  r.models.forEach((m, i) => { sel.options[i].textContent = m.name + (m.dataset ? " (" + m.dataset + ")" : ""); });
  if (!r.models.length) $("model-note").textContent = "no model files in the runs folder yet: train one (axon train) or open a file";
  if (select) sel.value = select;
  if (sel.value) await openModel(sel.value);
}

async function openModel(id) {
  try {
    ins.desc = await Studio.api("/api/models/" + id);
    ins.model = id; ins.off = {}; ins.label = null; ins.result = null;
    $("model-note").textContent = ins.desc.task + (ins.desc.image ? ", images " + ins.desc.image.slice(1).join("×") : ", " + ins.desc.n_inputs + " inputs");
    $("draw-box").style.display = ins.desc.image ? "" : "none";
    $("table-box").style.display = ins.desc.image ? "none" : "";
    if (ins.desc.image) { $("seen").width = ins.desc.image[2]; $("seen").height = ins.desc.image[1]; }
    $("feature-names").textContent = ins.desc.features ? "in this order: " + ins.desc.features.join(", ") : "";
    render();
    analyse();
  } catch (e) { Studio.toast(e.message); }
}

$("model").onchange = () => openModel($("model").value);
$("model-file").onchange = async () => {
  const file = $("model-file").files[0];
  if (!file) return;
  try {
    const r = await Studio.api("/api/models/upload?name=" + encodeURIComponent(file.name), { raw: file });
    await loadModels(r.id);
  } catch (e) { Studio.toast(e.message); }
};
$("run-inputs").onclick = () => analyse();
$("all-on").onclick = () => { ins.off = {}; analyse(); };

// -- drawing the answer ----------------------------------------------------------------------------------------------
function render() {
  const r = ins.result;
  $("pred").textContent = r && r.prediction !== null ? (r.classes ? r.classes[r.prediction] : r.prediction)
    : (r ? r.probabilities.map((v) => v.toPrecision(4)).join(", ") : "–");
  $("loss").textContent = r ? "loss C = " + Studio.fmt(r.loss, 4) + (r.label !== null ? " for label " + (r.classes ? r.classes[r.label] : r.label) : "") : "";
  const probs = $("probs");
  probs.innerHTML = "";
  if (r && r.classes) {
    r.probabilities.forEach((p, k) => {
      const row = document.createElement("div");
      row.className = "bar" + (k === r.label ? " label" : "");
      row.dataset.k = k;
      row.innerHTML = "<span></span><div><div class='b' style='width:" + (100 * p).toFixed(1) + "%'></div></div><span class='num'>" + (100 * p).toFixed(1) + "%</span>";
      row.firstChild.textContent = r.classes[k] + (k === r.label ? " ← δ" : "");
      row.onclick = () => { ins.label = k; analyse(); };
      probs.appendChild(row);
    });
  }
  if (r && r.input_image) drawSeen(r.input_image);
  const box = $("layers");
  box.innerHTML = "";
  if (!r || !ins.desc) return;
  const units = {};
  for (const d of ins.desc.layers) units[d.name] = d.units;
  for (const L of r.layers) {
    const div = document.createElement("div");
    div.className = "layer";
    const title = document.createElement("div");
    title.innerHTML = "<b></b> <span class='muted'></span>";
    title.firstChild.textContent = L.name;
    title.lastChild.textContent = L.kind + " · " + L.shape.join("×") + " · max |a| " + Studio.fmt(L.scale, 3) + " · max |δ| " + L.delta_scale.toExponential(2);
    div.appendChild(title);
    const a = Studio.decode(L.values), dl = Studio.decode(L.delta);
    const switchable = units[L.name] !== null && units[L.name] !== undefined;
    div.appendChild(lane("a", cells(L, a, switchable)));
    div.appendChild(lane("δ", cells(L, dl, false)));
    box.appendChild(div);
  }
}

function lane(name, content) {
  const d = document.createElement("div");
  d.className = "lane";
  const s = document.createElement("span");
  s.textContent = name;
  d.append(s, content);
  return d;
}

// One row of cells (a vector) or one small map per channel (images), coloured by sign and size.
function cells(L, values, switchable) {
  const off = new Set(L.off);
  const toggle = (u) => {
    const now = new Set(ins.off[L.name] || []);
    if (now.has(u)) now.delete(u); else now.add(u);
    if (now.size) ins.off[L.name] = [...now]; else delete ins.off[L.name];
    analyse();
  };
  if (L.shape.length === 3) {
    const [C, H, W] = L.shape;
    const maps = document.createElement("div");
    maps.className = "maps";
    for (let c = 0; c < C; c++) {
      const cv = document.createElement("canvas");
      cv.width = W; cv.height = H;
      Studio.heat(cv, values.slice(c * H * W, (c + 1) * H * W), W);
      if (off.has(c)) cv.classList.add("off");
      if (switchable) { cv.title = "channel " + c + ": click to switch off/on"; cv.onclick = () => toggle(c); }
      maps.appendChild(cv);
    }
    return maps;
  }
  const row = document.createElement("div");
  row.className = "units";
  const n = Math.min(values.length, 1024);
  for (let u = 0; u < n; u++) {
    const cell = document.createElement("div");
    cell.className = "unit" + (off.has(u) ? " off" : "");
    cell.style.background = Studio.css(Studio.color(values[u]));
    if (switchable) { cell.title = "unit " + u + ": click to switch off/on"; cell.onclick = () => toggle(u); cell.dataset.unit = u; }
    row.appendChild(cell);
  }
  return row;
}

function drawSeen(img) {
  const cv = $("seen");
  const h = img.length, w = img[0].length;
  cv.width = w; cv.height = h;
  const c = cv.getContext("2d");
  const im = c.createImageData(w, h);
  for (let r = 0; r < h; r++) for (let k = 0; k < w; k++) {
    const v = 255 - Math.round(255 * Math.max(0, Math.min(1, img[r][k])));
    const i = 4 * (r * w + k);
    im.data[i] = v; im.data[i + 1] = v; im.data[i + 2] = v; im.data[i + 3] = 255;
  }
  c.putImageData(im, 0, 0);
}

loadModels(Studio.parseHash().model).catch((e) => Studio.toast(e.message));
