// axon studio: helpers the three pages share (no framework, no build step).
"use strict";

const Studio = {};

// A message at the bottom of the page: errors in red, notes in grey.
Studio.toast = function (text, kind) {
  let el = document.getElementById("toast");
  if (!el) {
    el = document.createElement("div");
    el.id = "toast";
    document.body.appendChild(el);
  }
  el.textContent = text;
  el.className = kind === "info" ? "info" : "";
  el.style.display = "block";
  el.dataset.text = text;
  clearTimeout(Studio._toastTimer);
  Studio._toastTimer = setTimeout(() => { el.style.display = "none"; }, kind === "info" ? 2500 : 7000);
};

// JSON API call: resolves to the parsed answer, rejects with the server's error message.
Studio.api = async function (path, options) {
  options = options || {};
  const init = { method: options.method || (options.body !== undefined ? "POST" : "GET"), headers: {} };
  if (options.raw !== undefined) {
    init.body = options.raw;
  } else if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new Error("the studio did not answer (is axon studio still running?)");
  }
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) throw new Error((data && data.error) || ("HTTP " + response.status));
  return data;
};

// A WebSocket that reconnects (with onOpen called again) until close() is called.
Studio.socket = function (path, handlers) {
  const self = { ws: null, closed: false, delay: 300 };
  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    const ws = new WebSocket(url);
    self.ws = ws;
    ws.onopen = () => { self.delay = 300; if (handlers.open) handlers.open(self); };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      handlers.message(msg, self);
    };
    ws.onclose = () => {
      if (self.closed) return;
      if (handlers.lost) handlers.lost();
      setTimeout(connect, self.delay);
      self.delay = Math.min(self.delay * 2, 5000);
    };
  }
  self.send = (obj) => { if (self.ws && self.ws.readyState === 1) self.ws.send(JSON.stringify(obj)); };
  self.close = () => { self.closed = true; if (self.ws) self.ws.close(); };
  connect();
  return self;
};

// base64 of signed bytes (-127..127) -> Float32Array of values in [-1, 1].
Studio.decode = function (text) {
  const bin = atob(text);
  const out = new Float32Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    let b = bin.charCodeAt(i);
    if (b > 127) b -= 256;
    out[i] = b / 127;
  }
  return out;
};

// The playground's colour scale: -1 orange, 0 light grey, +1 blue (as TensorFlow Playground).
const NEG = [245, 147, 34], ZERO = [232, 234, 235], POS = [8, 119, 189];
Studio.color = function (v) {
  const t = Math.max(-1, Math.min(1, v));
  const end = t < 0 ? NEG : POS, a = Math.abs(t);
  return [ZERO[0] + (end[0] - ZERO[0]) * a, ZERO[1] + (end[1] - ZERO[1]) * a, ZERO[2] + (end[2] - ZERO[2]) * a];
};
Studio.css = function (rgb) { return "rgb(" + rgb.map(Math.round).join(",") + ")"; };
Studio.CLASS_COLORS = [[245, 147, 34], [8, 119, 189], [46, 160, 67], [146, 71, 181]];

// The colours of the 255 byte values -127..127 (index byte + 127), computed once.
Studio.LUT = (() => {
  const lut = new Uint8ClampedArray(255 * 3);
  for (let b = -127; b <= 127; b++) {
    const c = Studio.color(b / 127);
    lut.set([c[0], c[1], c[2]], 3 * (b + 127));
  }
  return lut;
})();

// A map sent as base64 bytes (side*side values -127..127) drawn into a canvas of that many pixels.
Studio.heatB64 = function (canvas, text, side) {
  if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
  const ctx = canvas.getContext("2d");
  if (!canvas._img || canvas._img.width !== side) canvas._img = ctx.createImageData(side, side);
  const data = canvas._img.data, bin = atob(text), lut = Studio.LUT;
  for (let i = 0; i < bin.length; i++) {
    let b = bin.charCodeAt(i);
    if (b > 127) b -= 256;
    const k = 3 * (b + 127);
    data[4 * i] = lut[k]; data[4 * i + 1] = lut[k + 1]; data[4 * i + 2] = lut[k + 2]; data[4 * i + 3] = 255;
  }
  ctx.putImageData(canvas._img, 0, 0);
};

// Values (side*side, in [-1, 1]) drawn into a canvas of that many pixels.
Studio.heat = function (canvas, values, side) {
  if (canvas.width !== side) { canvas.width = side; canvas.height = side; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < values.length; i++) {
    const c = Studio.color(values[i]);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
};

// A line chart: series = [{name, points: [[x, y], ...], color, dash}], drawn to the canvas' CSS size.
Studio.chart = function (canvas, series, opts) {
  opts = opts || {};
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300, h = canvas.clientHeight || 150;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const left = 44, right = 8, top = 16, bottom = 20;
  let xs = [], ys = [];
  for (const s of series) for (const p of s.points) {
    if (p[1] !== null && isFinite(p[1])) { xs.push(p[0]); ys.push(p[1]); }
  }
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#666";
  if (opts.title) ctx.fillText(opts.title, left, 11);
  if (!xs.length) { ctx.fillText("no data yet", left + 8, h / 2); return; }
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (opts.zero) y0 = Math.min(0, y0);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y1 = y0 + Math.abs(y0 || 1) * 0.1; y0 = y0 - Math.abs(y0 || 1) * 0.1; }
  const X = (x) => left + (x - x0) / (x1 - x0) * (w - left - right);
  const Y = (y) => top + (1 - (y - y0) / (y1 - y0)) * (h - top - bottom);
  ctx.strokeStyle = "#ddd"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(left, top); ctx.lineTo(left, h - bottom); ctx.lineTo(w - right, h - bottom); ctx.stroke();
  const fmt = (v) => Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : (+v.toPrecision(3)).toString();
  ctx.fillText(fmt(y1), 2, top + 4); ctx.fillText(fmt(y0), 2, h - bottom);
  ctx.fillText(fmt(x0), left, h - 5); const xt = fmt(x1); ctx.fillText(xt, w - right - ctx.measureText(xt).width, h - 5);
  let lx = left + 8;
  for (const s of series) {
    ctx.strokeStyle = s.color || "#333"; ctx.lineWidth = 1.6; ctx.setLineDash(s.dash ? [4, 3] : []);
    ctx.beginPath();
    let first = true;
    for (const p of s.points) {
      if (p[1] === null || !isFinite(p[1])) { first = true; continue; }
      if (first) ctx.moveTo(X(p[0]), Y(p[1])); else ctx.lineTo(X(p[0]), Y(p[1]));
      first = false;
    }
    ctx.stroke();
    if (s.name && opts.legend !== false) {
      ctx.fillStyle = s.color || "#333";
      const tw = ctx.measureText(s.name).width;
      ctx.fillText(s.name, w - right - tw - (lx - left - 8), 11);
      lx += tw + 14;
    }
  }
  ctx.setLineDash([]);
};

Studio.fmt = function (v, digits) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  return Number(v).toFixed(digits === undefined ? 3 : digits);
};

// Query string (no leading '#') <-> object.
Studio.parseHash = function () {
  const out = {};
  const text = location.hash.replace(/^#/, "");
  if (!text) return out;
  for (const part of text.split("&")) {
    if (!part) continue;
    const i = part.indexOf("=");
    const k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
    out[k] = i < 0 ? "" : decodeURIComponent(part.slice(i + 1));
  }
  return out;
};
Studio.toQuery = function (obj) {
  return Object.keys(obj).filter((k) => obj[k] !== undefined && obj[k] !== null)
    .map((k) => encodeURIComponent(k) + "=" + encodeURIComponent(obj[k]).replace(/%2C/g, ",")).join("&");
};

// Download bytes or text from a URL without leaving the page.
Studio.download = async function (url, filename) {
  const response = await fetch(url);
  if (!response.ok) {
    let msg = "HTTP " + response.status;
    try { msg = (await response.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  const blob = await response.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
};
