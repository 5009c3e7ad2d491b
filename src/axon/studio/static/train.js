// The Train page: start axon train runs, list the runs, watch one live and steer it.
"use strict";

const tr = { info: null, run: null, sock: null, rows: [], summary: null, csv: null, events: 0 };
window.train = tr;  // for the end-to-end tests

const $ = (id) => document.getElementById(id);
const SKIP = new Set(["dataset", "target"]);
const CHART_MS = 1000;  // least time between two redraws of the charts and the table
const TABLE_ROWS = 25;
const FIRST = new Set(["model", "layers", "activation", "optimizer", "lr", "epochs", "batch_size", "dropout", "l2"]);

function buildForm() {
  const box = $("options");
  const more = document.createElement("details");
  more.innerHTML = "<summary class='muted' style='margin-top:8px;cursor:pointer'>more options</summary>";
  for (const o of tr.info.train_options) {
    if (SKIP.has(o.name)) continue;
    const label = document.createElement("label");
    label.htmlFor = "opt-" + o.name;
    label.textContent = o.name.replace(/_/g, "-");
    label.title = o.help;
    const input = document.createElement("input");
    input.type = "text"; input.id = "opt-" + o.name; input.dataset.option = o.name;
    input.placeholder = o.metavar; input.title = o.help;
    (FIRST.has(o.name) ? box : more).append(label, input);
  }
  box.appendChild(more);
  $("opt-dataset").onchange = () => { $("csv-box").style.display = $("opt-dataset").value === "csv" ? "" : "none"; };
  $("csv-file").onchange = uploadCsv;
  $("opt-target").onchange = checkCsv;
  $("opt-delimiter").onchange = uploadCsv;  // the columns change with the separator
  $("opt-drop").onchange = checkCsv;
  $("opt-task").onchange = checkCsv;
  $("start").onclick = start;
  $("attach").onclick = attach;
  $("pause").onclick = () => control(tr.summary && tr.summary.state === "paused" ? "resume" : "pause");
  $("stop").onclick = () => control("stop");
  $("set-lr").onclick = () => control("lr", $("new-lr").value);
  $("new-lr").onkeydown = (ev) => { if (ev.key === "Enter") control("lr", $("new-lr").value); };
}

async function uploadCsv() {
  const file = $("csv-file").files[0];
  if (!file) return;
  if (file.size > tr.info.max_upload) {
    Studio.toast("the file is " + (file.size / 2 ** 20).toFixed(1) + " MB; the studio takes files up to "
      + (tr.info.max_upload / 2 ** 20) + " MB (axon studio --max-upload-mb N for more)");
    return;
  }
  $("csv-note").textContent = "uploading…";
  try {
    const r = await Studio.api("/api/uploads/csv?name=" + encodeURIComponent(file.name)
      + "&delimiter=" + encodeURIComponent($("opt-delimiter").value.trim() || ","), { raw: file });
    tr.csv = r;
    $("opt-target").innerHTML = r.columns.map((c) => "<option>" + c.replace(/</g, "&lt;") + "</option>").join("");
    $("opt-target").value = r.columns[r.columns.length - 1];
    await checkCsv();
  } catch (e) {
    tr.csv = null;
    $("csv-note").textContent = "";
    Studio.toast(e.message);
  }
}

async function checkCsv() {
  if (!tr.csv) return;
  try {
    const body = { path: tr.csv.path, target: $("opt-target").value };
    for (const k of ["delimiter", "drop", "task"]) body[k] = $("opt-" + k).value.trim();  // as the run reads it
    const r = await Studio.api("/api/csv/check", { body: body });
    $("csv-note").textContent = r.rows + " rows, " + r.features.length + " features: " + r.task;
  } catch (e) {
    $("csv-note").textContent = "";
    Studio.toast(e.message);
  }
}

function options() {
  const out = {};
  const ds = $("opt-dataset").value;
  if (ds === "csv") {
    if (!tr.csv) throw new Error("choose a CSV file first");
    out.dataset = tr.csv.dataset;
    out.target = $("opt-target").value;
  } else {
    out.dataset = ds;
  }
  document.querySelectorAll("[data-option]").forEach((el) => { if (el.value.trim()) out[el.dataset.option] = el.value.trim(); });
  return out;
}

async function start() {
  try {
    const run = await Studio.api("/api/runs", { body: { options: options() } });
    Studio.toast("started", "info");
    select(run.id);
    refresh();
  } catch (e) { Studio.toast(e.message); }
}

async function attach() {
  try {
    const run = await Studio.api("/api/runs/attach", { body: { folder: $("folder").value } });
    select(run.id);
    refresh();
  } catch (e) { Studio.toast(e.message); }
}

async function control(action, lr) {
  if (!tr.run) return;
  try {
    await Studio.api("/api/runs/" + tr.run + "/control", { body: { action: action, lr: lr } });
    Studio.toast(action === "lr" ? "learning rate sent" : action + " sent", "info");
  } catch (e) { Studio.toast(e.message); }
}

async function refresh() {
  try {
    const r = await Studio.api("/api/runs");
    const body = $("runs").querySelector("tbody");
    body.innerHTML = "";
    for (const run of r.runs) {
      const tr_ = document.createElement("tr");
      tr_.dataset.id = run.id;
      if (run.id === tr.run) tr_.className = "sel";
      const epochs = run.epochs ? run.epochs_done + "/" + run.epochs : run.epochs_done;
      tr_.innerHTML = "<td></td><td><span class='state " + run.state + "'>" + run.state + "</span></td><td>" + epochs + "</td>";
      tr_.firstChild.textContent = run.name + (run.source === "page" ? " (here)" : "");
      tr_.firstChild.title = run.path || "";
      tr_.onclick = () => select(run.id);
      body.appendChild(tr_);
    }
    $("conn").textContent = "";
  } catch (e) { $("conn").textContent = e.message; }
}

// -- one run ----------------------------------------------------------------------------------------------------
function select(id) {
  if (tr.sock) tr.sock.close();
  tr.run = id; tr.rows = []; tr.summary = null; tr.events = 0; tr.epochs = null;
  history.replaceState(null, "", "#run=" + encodeURIComponent(id));
  document.querySelectorAll("#runs tr").forEach((r) => r.classList.toggle("sel", r.dataset.id === id));
  tr.sock = Studio.socket("/ws/runs/" + encodeURIComponent(id), {
    open: () => { tr.rows = []; tr.events = 0; },  // the server sends every event again
    message: onMessage,
  });
  draw();
}

function onMessage(msg) {
  if (msg.type === "error") { Studio.toast(msg.message); return; }
  if (msg.type !== "events") return;
  for (const e of msg.events) {
    tr.events++;
    if (e.type === "state") {
      tr.summary = e;
      if (e.id && e.id !== tr.run) { tr.run = e.id; history.replaceState(null, "", "#run=" + encodeURIComponent(e.id)); }
    } else if (e.type === "begin") {
      tr.rows = [];
      const h = e.history || {};
      const n = Math.max(0, ...Object.values(h).map((v) => v.length));
      for (let i = 0; i < n; i++) {
        const logs = {};
        for (const k of Object.keys(h)) logs[k] = h[k][i];
        tr.rows.push({ epoch: i, logs: logs, seconds: null });
      }
      tr.epochs = e.epochs; tr.steps = e.steps;
      if (e.lr !== undefined && e.lr !== null) $("cur-lr").textContent = e.lr;
    } else if (e.type === "epoch") {
      tr.rows = tr.rows.filter((r) => r.epoch !== e.epoch);
      tr.rows.push({ epoch: e.epoch, logs: e.logs || {}, seconds: e.seconds });
      tr.batch = null;
    } else if (e.type === "batch") {
      tr.batch = e;
    } else if (e.type === "control") {
      if (e.lr !== null && e.lr !== undefined) $("cur-lr").textContent = e.lr;
    }
  }
  scheduleDraw();
}

// The charts and the table at most once a second, however fast the epochs come: watching should
// cost the machine that trains as little as it can. The state line is cheap and always current.
function scheduleDraw() {
  if (tr.summary !== tr.drawnSummary) { tr.drawnSummary = tr.summary; drawState(); }  // pause, stop: at once
  if (tr.drawTimer) return;
  const wait = Math.max(0, CHART_MS - (performance.now() - (tr.drawnAt || 0)));
  tr.drawTimer = setTimeout(() => { tr.drawTimer = null; tr.drawnAt = performance.now(); drawState(); drawCharts(); }, wait);
}

function draw() { drawState(); drawCharts(); }

function drawState() {
  const s = tr.summary;
  $("run-name").textContent = s ? s.name : (tr.run ? "…" : "none selected");
  $("run-state").textContent = s ? s.state : "";
  $("run-state").className = "state " + (s ? s.state : "");
  $("run-message").textContent = s && s.message ? s.message : "";
  const live = s && ["running", "paused"].includes(s.state);
  $("pause").disabled = !live; $("stop").disabled = !live; $("new-lr").disabled = !live; $("set-lr").disabled = !live;
  $("pause").textContent = s && s.state === "paused" ? "Resume" : "Pause";
  if (s && s.lr !== null && s.lr !== undefined) $("cur-lr").textContent = s.lr;
  const rep = $("report");
  if (s && s.report) { rep.href = "/api/runs/" + s.id + "/report"; rep.style.display = ""; } else rep.style.display = "none";
  const last = tr.rows.length ? tr.rows[tr.rows.length - 1] : null;
  const b = tr.batch;
  const epoch = b ? b.epoch + 1 : (last ? last.epoch + 1 : null);
  $("cur-epoch").textContent = epoch === null ? "–" : epoch + (tr.epochs ? "/" + tr.epochs : "");
  $("cur-batch").textContent = b ? b.batch + (b.steps ? "/" + b.steps : "") : "–";
  $("cur-loss").textContent = b ? Studio.fmt(b.loss, 4) : (last ? Studio.fmt(last.logs.loss, 4) : "–");
  $("cur-sec").textContent = last ? Studio.fmt(last.seconds, 3) : "–";
  $("bar").style.width = b && b.steps ? (100 * b.batch / b.steps).toFixed(1) + "%" : (last ? "100%" : "0");
}

function drawCharts() {
  const rows = tr.rows.slice().sort((a, b) => a.epoch - b.epoch);
  const keys = [];
  for (const r of rows) for (const k of Object.keys(r.logs)) if (!keys.includes(k)) keys.push(k);
  const series = (k, color, dash) => ({ name: k, points: rows.filter((r) => r.logs[k] !== undefined).map((r) => [r.epoch + 1, r.logs[k]]), color: color, dash: dash });
  Studio.chart($("c-loss"), [series("loss", "#0877bd"), series("val_loss", "#f59322", true)], { title: "loss" });
  const metric = keys.find((k) => !k.startsWith("val_") && !["loss", "lr"].includes(k) && !k.startsWith("grad_norm"));
  Studio.chart($("c-metric"), metric ? [series(metric, "#0877bd"), series("val_" + metric, "#f59322", true)] : [],
    { title: metric || "metric" });
  Studio.chart($("c-lr"), [series("lr", "#555")], { title: "learning rate", legend: false });
  Studio.chart($("c-time"), [{ name: "s", points: rows.filter((r) => r.seconds !== null).map((r) => [r.epoch + 1, r.seconds]), color: "#555" }],
    { title: "seconds per epoch", legend: false, zero: true });
  const shown = keys.filter((k) => !k.startsWith("grad_norm"));
  const head = "<tr><th>epoch</th>" + shown.map((k) => "<th>" + k + "</th>").join("") + "<th>seconds</th></tr>";
  if (head !== tr.tableHead) { $("epochs").querySelector("thead").innerHTML = head; tr.tableHead = head; }
  $("epochs").querySelector("tbody").innerHTML = rows.slice(-TABLE_ROWS).reverse().map((r) => "<tr><td>" + (r.epoch + 1) + "</td>"
    + shown.map((k) => "<td>" + (k === "lr" ? (r.logs[k] === undefined ? "–" : r.logs[k]) : Studio.fmt(r.logs[k], 4)) + "</td>").join("")
    + "<td>" + Studio.fmt(r.seconds, 3) + "</td></tr>").join("");
  $("more-epochs").textContent = rows.length > TABLE_ROWS ? "the last " + TABLE_ROWS + " of " + rows.length + " epochs (all of them in history.csv and the report)" : "";
}

async function main() {
  tr.info = await Studio.api("/api/info");
  $("runs-dir").textContent = tr.info.runs_dir;
  buildForm();
  await refresh();
  setInterval(refresh, 1500);
  const hash = Studio.parseHash();
  if (hash.run) select(hash.run);
  else draw();
}

main().catch((e) => Studio.toast(e.message));
