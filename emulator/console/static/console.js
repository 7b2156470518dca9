/* The emulator's console: one page, hash routes, no build step and no dependencies.
   Data comes from /_emulator/console/api/... and the admin API; live updates from
   server-sent events, read with fetch so that they carry the admin token too. */
"use strict";

const API = "/_emulator/console/api";
const state = { region: null, overview: null, status: null, page: null, sources: [] };

// -- small helpers ------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** fetch with the admin token (--admin-token), asked for once when the emulator wants it. */
async function call(path, options = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const token = sessionStorage.getItem("console.token");
    const headers = { ...(options.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401 || attempt >= 2) return response;
    const given = prompt("This emulator's admin API needs its token (--admin-token):");
    if (!given) return response;
    sessionStorage.setItem("console.token", given);
  }
}

async function getJSON(path) {
  const response = await call(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || body.message || `${response.status} ${path}`);
  return body;
}

async function postJSON(path, body) {
  const response = await call(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.error || answer.message || answer.Message || `${response.status} ${path}`);
  }
  return answer;
}

/** An AWS operation through the console's call endpoint (the SDK's answer or its error). */
async function aws(target, request) {
  const response = await call(`${API}/call`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ Target: target, Region: state.region, Request: request }),
  });
  const answer = await response.json();
  if (!response.ok) {
    const type = (answer.__type || "").split("#").pop();
    throw new Error(`${type || response.status}: ${answer.message || answer.Message || answer.error}`);
  }
  return answer;
}
const ddb = (operation, request) => aws(`DynamoDB_20120810.${operation}`, request);

function when(seconds) {
  if (seconds === null || seconds === undefined) return "";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace("Z", "");
}
function badge(text, kind) { return h("span", { class: `badge ${kind || ""}` }, text); }
function stateBadge(text) {
  const ok = ["ACTIVE", "ENABLED", "Enabled", "OK", "TAILING", "ENABLING"].includes(text);
  const bad = /FAIL|ERROR|DISABLED|PROBLEM/i.test(text || "");
  return badge(text || "—", ok ? "ok" : bad ? "bad" : "");
}
function shortShard(id) { return id ? id.slice(-8) : ""; }
function errorBox(error) { return h("p", { class: "error" }, String(error.message || error)); }
function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
function pre(value) { return h("pre", {}, JSON.stringify(value, null, 2)); }

// -- DynamoDB JSON <-> plain JSON -------------------------------------------------------

function toPlain(value) {
  const [type, v] = Object.entries(value)[0];
  switch (type) {
    case "S": case "B": return v;
    case "N": { const n = Number(v); return String(n) === v ? n : v; }
    case "BOOL": return v;
    case "NULL": return null;
    case "L": return v.map(toPlain);
    case "M": return plainItem(v);
    case "SS": case "BS": return [...v];
    case "NS": return v.map(Number);
    default: return v;
  }
}
function plainItem(item) {
  const out = {};
  for (const [name, value] of Object.entries(item)) out[name] = toPlain(value);
  return out;
}
function fromPlain(value) {
  if (value === null) return { NULL: true };
  if (typeof value === "string") return { S: value };
  if (typeof value === "number") return { N: String(value) };
  if (typeof value === "boolean") return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(fromPlain) };
  return { M: typedItem(value) };
}
function typedItem(plain) {
  const out = {};
  for (const [name, value] of Object.entries(plain)) out[name] = fromPlain(value);
  return out;
}
function compact(value) {
  const [type, v] = Object.entries(value)[0];
  if (type === "S" || type === "N") return v;
  return JSON.stringify(toPlain(value));
}
function keyOf(item, keySchema) {
  const key = {};
  for (const { AttributeName } of keySchema) key[AttributeName] = item[AttributeName];
  return key;
}
function keyText(keys) {
  return Object.entries(keys || {}).map(([k, v]) => `${k}=${compact(v)}`).join(" ");
}

// -- live updates -------------------------------------------------------------------------

/** Read a server-sent event stream until `close()`; reconnects after two seconds when
 * the connection drops (`handlers.open` runs on every (re)connection). */
function events(url, handlers) {
  const controller = new AbortController();
  let closed = false;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  (async () => {
    while (!closed) {
      try {
        const response = await call(url, { headers: { Accept: "text/event-stream" }, signal: controller.signal });
        if (!response.ok) throw new Error(`${response.status}`);
        setLive(true);
        if (handlers.open) handlers.open();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let name = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) name = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (data && handlers[name]) handlers[name](JSON.parse(data));
          }
        }
      } catch (error) {
        if (closed) return;
      }
      setLive(false);
      await sleep(2000);
    }
  })();
  return { close() { closed = true; controller.abort(); } };
}

/** An event stream that lives as long as the current page (closed on navigation). */
function subscribe(url, handlers) {
  const source = events(url, handlers);
  state.sources.push(source);
  return source;
}
function setLive(on) {
  const el = document.getElementById("live");
  el.className = `live ${on ? "on" : "off"}`;
  el.textContent = on ? "live" : "reconnecting";
}
const statusListeners = new Set();
function startStatus() {
  events(`${API}/events`, {
    status: (status) => {
      state.status = status;
      renderClock();
      for (const listener of statusListeners) listener(state.status);
    },
  });
}
function onStatus(listener) { statusListeners.add(listener); }

function renderClock() {
  const clock = (state.status && state.status.Clock) || (state.overview && state.overview.Clock);
  const el = document.getElementById("clock");
  if (!clock) return;
  const lead = clock.offset || 0;
  const now = clock.mode === "real" ? Date.now() / 1000 + lead : clock.now;
  const mode = clock.mode === "real" ? (lead >= 1 ? `real time +${Math.round(lead)} s` : "real time") : "MANUAL clock";
  el.textContent = `${mode} · ${when(now)}`;
}
setInterval(renderClock, 1000);

// -- routing ------------------------------------------------------------------------------

const routes = [];
function route(pattern, render) { routes.push([pattern, render]); }

async function navigate() {
  for (const source of state.sources) source.close();
  state.sources = [];
  statusListeners.clear();
  const hash = location.hash.replace(/^#/, "") || "/tables";
  const parts = hash.split("/").slice(1).map(decodeURIComponent);
  const main = document.getElementById("main");
  for (const link of document.querySelectorAll(".sidebar a")) {
    link.classList.toggle("active", link.dataset.page === parts[0] ||
      (parts[0] === "table" && link.dataset.page === "tables") ||
      (parts[0] === "items" && link.dataset.page === "tables") ||
      (parts[0] === "stream" && link.dataset.page === "streams") ||
      (parts[0] === "trigger" && link.dataset.page === "triggers"));
  }
  const match = routes.find(([name]) => name === parts[0]);
  main.replaceChildren();
  try {
    if (!match) throw new Error(`No page ${hash}`);
    await match[1](main, ...parts.slice(1));
  } catch (error) {
    main.append(errorBox(error));
  }
}

async function loadOverview() {
  state.overview = await getJSON(`${API}/overview`);
  const select = document.getElementById("region");
  if (!state.region) state.region = localStorage.getItem("console.region") || state.overview.Region;
  if (!state.overview.Regions.includes(state.region)) state.overview.Regions.push(state.region);
  select.replaceChildren(...state.overview.Regions.map((r) => h("option", { value: r, selected: r === state.region }, r)));
  renderClock();
  return state.overview;
}

// -- tables -------------------------------------------------------------------------------

route("tables", async (main) => {
  const overview = await loadOverview();
  const tables = overview.Tables.filter((t) => t.Region === state.region);
  main.append(h("h1", {}, `Tables in ${state.region}`));
  if (!tables.length) {
    main.append(h("p", { class: "muted" }, "No tables yet. Create one with any SDK; it appears here."));
  }
  const counts = new Map();
  const body = h("tbody", {}, tables.map((t) => {
    const count = h("td", { class: "num" }, t.ItemCount);
    counts.set(`${t.Region}/${t.TableName}`, count);
    return h("tr", { class: "clickable", onclick: () => { location.hash = `#/table/${t.Region}/${encodeURIComponent(t.TableName)}`; } },
      h("td", {}, h("a", { href: `#/table/${t.Region}/${encodeURIComponent(t.TableName)}` }, t.TableName)),
      h("td", {}, stateBadge(t.TableStatus)),
      h("td", { class: "mono" }, (t.KeySchema || []).map((k) => `${k.AttributeName} (${k.KeyType})`).join(", ")),
      count,
      h("td", {}, t.StreamEnabled ? h("a", { href: `#/stream/${encodeURIComponent(t.LatestStreamArn)}` }, "stream") : h("span", { class: "muted" }, "off")),
      h("td", {}, t.Replicas.length ? t.Replicas.join(", ") : h("span", { class: "muted" }, "—")),
      h("td", {}, t.ChangeLog ? badge("kept", "ok") : h("span", { class: "muted" }, "—")));
  }));
  main.append(h("table", { class: "grid", id: "tables" },
    h("thead", {}, h("tr", {}, ["Table", "Status", "Key", "Items", "Stream", "Replicas", "History"].map((c, i) => h("th", { class: i === 3 ? "num" : "" }, c)))),
    body));
  onStatus((status) => {
    for (const [name, cell] of counts) if (name in status.Tables) cell.textContent = status.Tables[name];
    if (Object.keys(status.Tables).filter((n) => n.startsWith(`${state.region}/`)).length !== tables.length) navigate();
  });
});

function keySchemaText(schema) {
  return (schema || []).map((k) => `${k.AttributeName} (${k.KeyType === "HASH" ? "partition" : "sort"})`).join(", ");
}

route("table", async (main, region, name) => {
  state.region = region;
  const info = await getJSON(`${API}/table?Region=${encodeURIComponent(region)}&TableName=${encodeURIComponent(name)}`);
  const table = info.Table.Table;
  const types = Object.fromEntries((table.AttributeDefinitions || []).map((a) => [a.AttributeName, a.AttributeType]));
  const ttl = (info.TimeToLive.TimeToLiveDescription || {});
  const pitr = ((info.Backups.ContinuousBackupsDescription || {}).PointInTimeRecoveryDescription || {});
  main.append(h("h1", {}, table.TableName, " ", stateBadge(table.TableStatus)),
    h("div", { class: "toolbar" },
      h("button", { class: "primary", onclick: () => { location.hash = `#/items/${region}/${encodeURIComponent(name)}`; } }, "Browse items"),
      table.LatestStreamArn && table.StreamSpecification && table.StreamSpecification.StreamEnabled
        ? h("button", { onclick: () => { location.hash = `#/stream/${encodeURIComponent(table.LatestStreamArn)}`; } }, "Stream") : null));
  main.append(h("div", { class: "panel" }, facts([
    ["Region", region],
    ["ARN", h("span", { class: "mono" }, table.TableArn)],
    ["Key", h("span", { class: "mono" }, (table.KeySchema || []).map((k) => `${k.AttributeName}: ${types[k.AttributeName]} (${k.KeyType === "HASH" ? "partition" : "sort"})`).join(", "))],
    ["Items", `${table.ItemCount} (${table.TableSizeBytes} bytes)`],
    ["Billing", (table.BillingModeSummary || {}).BillingMode || "PROVISIONED"],
    ["Time to live", ttl.TimeToLiveStatus === "ENABLED" ? `on attribute ${ttl.AttributeName}` : (ttl.TimeToLiveStatus || "DISABLED")],
    ["Stream", table.StreamSpecification && table.StreamSpecification.StreamEnabled
      ? h("span", {}, table.StreamSpecification.StreamViewType, " · ", h("a", { href: `#/stream/${encodeURIComponent(table.LatestStreamArn)}`, class: "mono" }, table.LatestStreamLabel))
      : "off"],
    ["Point-in-time recovery", pitr.PointInTimeRecoveryStatus || "DISABLED"],
    ["Change log (item history)", info.ChangeLog ? "kept" : "not kept (--change-log or PITR turns it on)"],
  ])));
  const indexes = [...(table.GlobalSecondaryIndexes || []).map((i) => ["global", i]), ...(table.LocalSecondaryIndexes || []).map((i) => ["local", i])];
  main.append(h("h2", {}, "Indexes"));
  main.append(indexes.length ? h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["Index", "Kind", "Key", "Projection", "Items", "Status"].map((c) => h("th", {}, c)))),
    h("tbody", {}, indexes.map(([kind, i]) => h("tr", {},
      h("td", {}, i.IndexName), h("td", {}, kind), h("td", { class: "mono" }, keySchemaText(i.KeySchema)),
      h("td", {}, i.Projection.ProjectionType + (i.Projection.NonKeyAttributes ? ` (${i.Projection.NonKeyAttributes.join(", ")})` : "")),
      h("td", { class: "num" }, i.ItemCount), h("td", {}, stateBadge(i.IndexStatus || "ACTIVE"))))))
    : h("p", { class: "muted" }, "No secondary indexes."));
  const destinations = info.KinesisDestinations.KinesisDataStreamDestinations || [];
  main.append(h("h2", {}, "Kinesis destinations"));
  main.append(destinations.length ? h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["Stream", "Status", "Precision"].map((c) => h("th", {}, c)))),
    h("tbody", {}, destinations.map((d) => h("tr", {}, h("td", { class: "mono" }, d.StreamArn), h("td", {}, stateBadge(d.DestinationStatus)), h("td", {}, d.ApproximateCreationDateTimePrecision || "MILLISECOND")))))
    : h("p", { class: "muted" }, "None."));
  main.append(h("h2", {}, "Replicas"));
  const replicas = table.Replicas || [];
  main.append(replicas.length ? h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["Region", "Status"].map((c) => h("th", {}, c)))),
    h("tbody", {}, replicas.map((r) => h("tr", {}, h("td", {}, h("a", { href: `#/table/${r.RegionName}/${encodeURIComponent(name)}` }, r.RegionName)), h("td", {}, stateBadge(r.ReplicaStatus))))))
    : h("p", { class: "muted" }, "Not a global table."));
  main.append(h("h2", {}, "Streams of this table"),
    info.Streams.length ? h("ul", {}, info.Streams.map((s) => h("li", {}, h("a", { href: `#/stream/${encodeURIComponent(s.StreamArn)}`, class: "mono" }, s.StreamArn), " ", stateBadge(s.StreamStatus))))
      : h("p", { class: "muted" }, "None."));
});

// -- items ----------------------------------------------------------------------------------

route("items", async (main, region, name) => {
  state.region = region;
  const table = (await ddb("DescribeTable", { TableName: name })).Table;
  const keySchema = table.KeySchema;
  const indexes = [...(table.GlobalSecondaryIndexes || []), ...(table.LocalSecondaryIndexes || [])];
  main.append(h("h1", {}, h("a", { href: `#/table/${region}/${encodeURIComponent(name)}` }, name), " · items"));
  const field = (label, input) => h("label", { class: "field" }, label, input);
  const mode = h("select", { id: "mode" }, h("option", { value: "Scan" }, "Scan"), h("option", { value: "Query" }, "Query"));
  const index = h("select", { id: "index" }, h("option", { value: "" }, "(table)"), indexes.map((i) => h("option", { value: i.IndexName }, i.IndexName)));
  const keyCondition = h("input", { type: "text", class: "wide", id: "key-condition", placeholder: "pk = :pk" });
  const filter = h("input", { type: "text", class: "wide", id: "filter", placeholder: "attribute_exists(#a)" });
  const values = h("input", { type: "text", class: "wide", id: "values", placeholder: '{":pk": "user#1"}  (plain or DynamoDB JSON)' });
  const names = h("input", { type: "text", id: "names", placeholder: '{"#a": "status"}' });
  const limit = h("input", { type: "number", id: "limit", value: "50", min: "1", style: "width:80px" });
  const message = h("div", {});
  const results = h("div", {});
  const editor = h("div", {});
  let lastKey = null;
  let lastRequest = null;

  function parseValues(text) {
    if (!text.trim()) return undefined;
    const parsed = JSON.parse(text);
    const out = {};
    for (const [k, v] of Object.entries(parsed)) {
      const typed = v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 &&
        ["S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"].includes(Object.keys(v)[0]);
      out[k] = typed ? v : fromPlain(v);
    }
    return out;
  }

  async function run(more) {
    message.replaceChildren();
    try {
      let request;
      if (more && lastRequest) request = { ...lastRequest, ExclusiveStartKey: lastKey };
      else {
        request = { TableName: name, Limit: Number(limit.value) || 50 };
        if (index.value) request.IndexName = index.value;
        if (mode.value === "Query") request.KeyConditionExpression = keyCondition.value;
        if (filter.value.trim()) request.FilterExpression = filter.value;
        const v = parseValues(values.value);
        if (v) request.ExpressionAttributeValues = v;
        if (names.value.trim()) request.ExpressionAttributeNames = JSON.parse(names.value);
      }
      lastRequest = request;
      const answer = await ddb(mode.value, request);
      lastKey = answer.LastEvaluatedKey || null;
      show(answer, more);
    } catch (error) { message.append(errorBox(error)); }
  }

  let rows = [];
  function show(answer, more) {
    rows = more ? rows.concat(answer.Items) : answer.Items;
    const keyNames = keySchema.map((k) => k.AttributeName);
    const others = [...new Set(rows.flatMap((item) => Object.keys(item)))].filter((n) => !keyNames.includes(n)).sort();
    const columns = [...keyNames, ...others.slice(0, 8)];
    results.replaceChildren(...[
      h("p", { class: "muted" }, `${rows.length} item(s)`, answer.ScannedCount !== undefined ? ` · last page scanned ${answer.ScannedCount}` : "",
        lastKey ? " · more available" : ""),
      h("table", { class: "grid", id: "items" },
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
        h("tbody", {}, rows.map((item) => h("tr", { class: "clickable", onclick: (e) => { for (const r of e.currentTarget.parentNode.children) r.classList.remove("selected"); e.currentTarget.classList.add("selected"); edit(item); } },
          columns.map((c) => h("td", {}, h("div", { class: "cellval" }, item[c] ? compact(item[c]) : ""))))))),
      lastKey ? h("button", { onclick: () => run(true) }, "Next page") : null].filter(Boolean));
  }

  function edit(item) {
    let plain = false;
    const area = h("textarea", { id: "item-json", spellcheck: "false" });
    const note = h("div", {});
    const format = h("select", { id: "item-format" }, h("option", { value: "ddb" }, "DynamoDB JSON"), h("option", { value: "plain" }, "Plain JSON"));
    const current = () => (plain ? typedItem(JSON.parse(area.value)) : JSON.parse(area.value));
    const fill = (value) => { area.value = JSON.stringify(plain ? plainItem(value) : value, null, 2); };
    format.addEventListener("change", () => {
      try { const value = current(); plain = format.value === "plain"; fill(value); } catch (error) { format.value = plain ? "plain" : "ddb"; note.replaceChildren(errorBox(error)); }
    });
    fill(item || {});
    const historyLink = item && state.overview && (state.overview.Tables.find((t) => t.Region === region && t.TableName === name) || {}).ChangeLog
      ? h("a", { href: `#/history/${region}/${encodeURIComponent(name)}/${encodeURIComponent(JSON.stringify(keyOf(item, keySchema)))}` }, "History of this item") : null;
    editor.replaceChildren(h("div", { class: "panel" },
      h("h2", { style: "margin-top:0" }, item ? `Item ${keyText(keyOf(item, keySchema))}` : "New item"),
      h("div", { class: "toolbar" }, format,
        h("button", { class: "primary", id: "save-item", onclick: async () => {
          try { await ddb("PutItem", { TableName: name, Item: current() }); note.replaceChildren(h("span", { class: "notice" }, "Saved.")); run(false); } catch (error) { note.replaceChildren(errorBox(error)); }
        } }, "Save (PutItem)"),
        item ? h("button", { class: "danger", id: "delete-item", onclick: async () => {
          if (!confirm("Delete this item?")) return;
          try { await ddb("DeleteItem", { TableName: name, Key: keyOf(item, keySchema) }); editor.replaceChildren(); run(false); } catch (error) { note.replaceChildren(errorBox(error)); }
        } }, "Delete") : null, historyLink),
      h("p", { class: "muted" }, "Plain JSON cannot express sets or binary; edit those as DynamoDB JSON."),
      area, note));
  }

  main.append(h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); run(false); } },
    field("Operation", mode), field("Index", index), field("Key condition (Query)", keyCondition),
    field("Filter", filter), field("Values", values), field("Names", names), field("Limit", limit),
    h("button", { class: "primary", type: "submit", id: "run" }, "Run"),
    h("button", { type: "button", onclick: () => edit(null) }, "New item")));
  main.append(message, h("div", { class: "split" }, results, editor));
  run(false);
});

// -- streams --------------------------------------------------------------------------------

route("streams", async (main) => {
  const overview = await loadOverview();
  main.append(h("h1", {}, `Streams in ${state.region}`));
  const answer = await aws("DynamoDBStreams_20120810.ListStreams", {});
  if (!answer.Streams.length) main.append(h("p", { class: "muted" }, "No streams. Enable one on a table (StreamSpecification)."));
  main.append(h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["Table", "Stream"].map((c) => h("th", {}, c)))),
    h("tbody", {}, answer.Streams.map((s) => h("tr", {},
      h("td", {}, s.TableName), h("td", {}, h("a", { class: "mono", href: `#/stream/${encodeURIComponent(s.StreamArn)}` }, s.StreamLabel)))))));
  void overview;
});

/** The lineage graph: one column per generation, parents left of their children. */
function lineage(shards) {
  const byId = new Map(shards.map((s) => [s.ShardId, s]));
  const children = new Map();
  const roots = [];
  for (const s of shards) {
    if (s.ParentShardId && byId.has(s.ParentShardId)) {
      if (!children.has(s.ParentShardId)) children.set(s.ParentShardId, []);
      children.get(s.ParentShardId).push(s);
    } else roots.push(s);
  }
  const placed = [];
  let row = 0;
  const visit = (shard, depth) => {
    const kids = children.get(shard.ShardId) || [];
    const start = row;
    for (const kid of kids) visit(kid, depth + 1);
    if (!kids.length) row += 1;
    const y = kids.length ? (start + row - 1) / 2 : row - 1;
    placed.push({ shard, depth, y });
  };
  for (const root of roots) visit(root, 0);
  const W = 250, H = 74, GX = 50, GY = 14;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  const depth = Math.max(0, ...placed.map((p) => p.depth));
  svg.setAttribute("width", (depth + 1) * (W + GX) + 10);
  svg.setAttribute("height", Math.max(1, row) * (H + GY) + 10);
  svg.setAttribute("id", "lineage");
  const pos = new Map(placed.map((p) => [p.shard.ShardId, { x: 5 + p.depth * (W + GX), y: 5 + p.y * (H + GY) }]));
  const el = (tag, attrs, text) => {
    const node = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  for (const s of shards) {
    const parent = pos.get(s.ParentShardId);
    const me = pos.get(s.ShardId);
    if (!parent || !me) continue;
    const x1 = parent.x + W, y1 = parent.y + H / 2, x2 = me.x, y2 = me.y + H / 2;
    el("path", { d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}` });
  }
  for (const { shard } of placed) {
    const { x, y } = pos.get(shard.ShardId);
    const group = el("g", { class: "shard", "data-shard": shard.ShardId, "data-open": String(shard.Open) });
    const rect = document.createElementNS(svgNS, "rect");
    Object.entries({ x, y, width: W, height: H, rx: 6, class: shard.Open ? "open" : "closed" }).forEach(([k, v]) => rect.setAttribute(k, v));
    group.append(rect);
    const line = (dy, text, cls) => {
      const t = document.createElementNS(svgNS, "text");
      t.setAttribute("x", x + 8); t.setAttribute("y", y + dy);
      if (cls) t.setAttribute("class", cls);
      t.textContent = text;
      group.append(t);
    };
    line(17, `…${shard.ShardId.slice(-22)}`, "label");
    line(34, `${shard.Open ? "OPEN" : "CLOSED"} · ${shard.Records} record(s)`);
    line(50, `from ${shard.StartingSequenceNumber}`);
    line(66, shard.EndingSequenceNumber ? `to   ${shard.EndingSequenceNumber}` : "to   (open)");
    const title = document.createElementNS(svgNS, "title");
    title.textContent = `${shard.ShardId}\ncreated ${when(shard.Created)}${shard.Closed ? `\nclosed ${when(shard.Closed)}` : ""}`;
    group.append(title);
  }
  return svg;
}

route("stream", async (main, arn) => {
  const info = await getJSON(`${API}/stream?StreamArn=${encodeURIComponent(arn)}`);
  state.region = info.Region;
  main.append(h("h1", {}, "Stream of ", h("a", { href: `#/table/${info.Region}/${encodeURIComponent(info.TableName)}` }, info.TableName), " ", stateBadge(info.StreamStatus)));
  main.append(h("div", { class: "panel" }, facts([
    ["ARN", h("span", { class: "mono" }, info.StreamArn)], ["View type", info.StreamViewType],
  ])));
  const graph = h("div", { class: "lineage", id: "lineage-box" });
  const split = h("input", { type: "checkbox", id: "split" });
  const rolled = h("span", {});
  main.append(h("h2", {}, "Shards"),
    h("div", { class: "toolbar" },
      h("button", { id: "rollover", onclick: async () => {
        try {
          const answer = await postJSON("/_emulator/streams/rollover", { StreamArn: arn, Split: split.checked });
          rolled.replaceChildren(h("span", { class: "notice" }, `Closed ${answer.ClosedShardIds.map(shortShard).join(", ")}; opened ${answer.NewShardIds.map(shortShard).join(", ")}`));
          const fresh = await getJSON(`${API}/stream?StreamArn=${encodeURIComponent(arn)}`);
          currentShards = fresh.Shards;
          graph.replaceChildren(lineage(fresh.Shards));
        } catch (error) { rolled.replaceChildren(errorBox(error)); }
      } }, "Force rollover"),
      h("label", {}, split, " split in two"), rolled),
    graph);
  graph.append(lineage(info.Shards));

  const eventName = h("select", { id: "event-filter" }, ["", "INSERT", "MODIFY", "REMOVE"].map((n) => h("option", { value: n }, n || "all events")));
  const keyFilter = h("input", { type: "text", id: "key-filter", placeholder: "key contains…" });
  const counter = h("span", { class: "muted", id: "record-count" }, "");
  const tbody = h("tbody", {});
  const detail = h("div", {});
  let shown = 0;
  main.append(h("h2", {}, "Records (live)"),
    h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); connect(); } },
      h("label", { class: "field" }, "Event", eventName), h("label", { class: "field" }, "Key", keyFilter),
      h("button", { type: "submit" }, "Apply"), counter),
    h("div", { class: "split" }, h("table", { class: "grid records", id: "records" },
      h("thead", {}, h("tr", {}, ["Time", "Event", "Keys", "Sequence number"].map((c) => h("th", {}, c)))), tbody), detail));
  let source = null;
  let currentShards = info.Shards;
  function connect() {
    if (source) { source.close(); state.sources = state.sources.filter((s) => s !== source); }
    const params = new URLSearchParams({ StreamArn: arn, Start: "RECENT" });
    if (eventName.value) params.set("EventName", eventName.value);
    if (keyFilter.value.trim()) params.set("Key", keyFilter.value.trim());
    source = subscribe(`${API}/stream/events?${params}`, {
      open: () => { tbody.replaceChildren(); shown = 0; counter.textContent = "waiting for records…"; },
      shards: (shards) => { currentShards = shards; graph.replaceChildren(lineage(shards)); },
      counts: (counts) => {
        for (const shard of currentShards) if (shard.ShardId in counts) shard.Records = counts[shard.ShardId];
        graph.replaceChildren(lineage(currentShards));
      },
      records: (records) => {
        for (const record of records) {
          const d = record.dynamodb;
          const tr = h("tr", { class: "clickable", "data-seq": d.SequenceNumber, onclick: () => detail.replaceChildren(h("div", { class: "panel" }, h("h2", { style: "margin-top:0" }, `${record.eventName} ${keyText(d.Keys)}`), pre(record))) },
            h("td", { title: when(d.ApproximateCreationDateTime) }, when(d.ApproximateCreationDateTime).slice(11, 19)), h("td", {}, badge(record.eventName, record.eventName)),
            h("td", { class: "keys" }, keyText(d.Keys)), h("td", { class: "mono" }, d.SequenceNumber));
          tbody.prepend(tr);
        }
        shown += records.length;
        while (tbody.children.length > 200) tbody.lastChild.remove();
        counter.textContent = `${shown} record(s) received${shown > 200 ? " (newest 200 shown)" : ""}`;
      },
      skipped: (info) => { counter.textContent += ` · skipped ${info.Records} while writers outran the page`; },
      gone: () => { counter.textContent = "The stream is gone."; source.close(); },
    });
  }
  connect();
});

// -- triggers -------------------------------------------------------------------------------

function functionName(arn) { return (arn || "").split(":function:").pop(); }
function sourceName(arn) {
  const m = /table\/([^/]+)\/stream/.exec(arn || "") || /:stream\/(.+)$/.exec(arn || "");
  return m ? m[1] : arn;
}

route("triggers", async (main) => {
  main.append(h("h1", {}, "Triggers (event source mappings)"));
  const box = h("div", {});
  main.append(box);
  const render = (mappings) => {
    const mine = mappings.filter((m) => m.Region === state.region);
    box.replaceChildren(mine.length ? h("table", { class: "grid", id: "triggers" },
      h("thead", {}, h("tr", {}, ["Function", "Source", "State", "Last result", "Backlog", "In flight", "Invocations", "Failures"].map((c) => h("th", {}, c)))),
      h("tbody", {}, mine.map((m) => h("tr", { class: "clickable", onclick: () => { location.hash = `#/trigger/${m.UUID}`; } },
        h("td", {}, h("a", { href: `#/trigger/${m.UUID}` }, functionName(m.FunctionArn))),
        h("td", { class: "mono" }, sourceName(m.EventSourceArn)), h("td", {}, stateBadge(m.State)),
        h("td", {}, stateBadge(m.LastProcessingResult)), h("td", { class: "num" }, m.Backlog ?? "—"),
        h("td", {}, m.InFlight ? "yes" : "no"), h("td", { class: "num" }, m.Invocations),
        h("td", { class: "num" }, m.FailureDocuments ? badge(String(m.FailureDocuments), "bad") : "0")))))
      : h("p", { class: "muted" }, "No event source mappings in this region. Create one with the Lambda API."));
  };
  render((await getJSON(`${API}/triggers`)).EventSourceMappings);
  onStatus((status) => render(status.Triggers));
});

route("trigger", async (main, uuid) => {
  const box = h("div", {});
  main.append(box);
  const invocationBox = h("div", { id: "invocation" });
  let selected = null;
  const showInvocation = (entry) => {
    selected = `${entry.Time}/${entry.ShardId}/${entry.Attempt}`;
    invocationBox.replaceChildren(h("div", { class: "panel" },
      h("h2", { style: "margin-top:0" }, `Batch of ${entry.Records} · attempt ${entry.Attempt} · ${entry.Outcome}`),
      facts([["Sequence numbers", h("span", { class: "mono" }, `${entry.FirstSequenceNumber || ""} – ${entry.LastSequenceNumber || ""}`)],
        entry.Detail ? ["Detail", entry.Detail] : null]),
      h("h2", {}, "Function log"), h("pre", { class: "logs" }, entry.Logs || "(nothing written)"),
      h("h2", {}, "Response"), h("pre", {}, entry.Response || "")));
  };
  const render = async () => {
    const info = await getJSON(`${API}/triggers/${uuid}`);
    const m = info.Mapping;
    const invocations = info.Invocations.slice(-50).reverse();
    const again = invocations.find((e) => `${e.Time}/${e.ShardId}/${e.Attempt}` === selected) || invocations[0];
    if (again) showInvocation(again);
    box.replaceChildren(
      h("h1", {}, `Trigger → ${functionName(m.FunctionArn)} `, stateBadge(m.State)),
      h("div", { class: "panel" }, facts([
        ["UUID", h("span", { class: "mono" }, m.UUID)], ["Function", h("span", { class: "mono" }, m.FunctionArn)],
        ["Source", h("span", { class: "mono" }, m.EventSourceArn)],
        ["Last processing result", stateBadge(m.LastProcessingResult)],
        ["Backlog", String(m.Backlog ?? "—")], ["Invocations", String(m.Invocations)],
        ["Failure documents", String(m.FailureDocuments)],
      ])),
      h("h2", {}, "Shards"),
      info.Shards.length ? h("table", { class: "grid", id: "trigger-shards" },
        h("thead", {}, h("tr", {}, ["Shard", "Parents", "Open", "Next sequence", "Finished", "Backlog"].map((c) => h("th", {}, c)))),
        h("tbody", {}, info.Shards.map((s) => h("tr", {}, h("td", { class: "mono" }, s.ShardId), h("td", { class: "mono" }, s.ParentShardIds.map(shortShard).join(", ")),
          h("td", {}, s.Open ? badge("open", "ok") : badge("closed", "closed")), h("td", { class: "mono" }, s.NextSequence),
          h("td", {}, s.Finished ? "yes" : "no"), h("td", { class: "num" }, s.Backlog)))))
        : h("p", { class: "muted" }, "Not running (disabled, or not started yet)."),
      h("h2", {}, `Last batches (${info.Invocations.length} logged, newest first)`),
      invocations.length ? h("table", { class: "grid", id: "invocations" },
        h("thead", {}, h("tr", {}, ["Time", "Shard", "Records", "Attempt", "Outcome", "Function error", "ms", "Detail"].map((c) => h("th", {}, c)))),
        h("tbody", {}, invocations.map((e) => h("tr", { class: "clickable", onclick: () => showInvocation(e) }, h("td", {}, when(e.Time)), h("td", { class: "mono" }, shortShard(e.ShardId)),
          h("td", { class: "num" }, e.Records), h("td", { class: "num" }, e.Attempt),
          h("td", {}, badge(e.Outcome, /ok|success/i.test(e.Outcome) ? "ok" : "bad")), h("td", {}, e.FunctionError || ""),
          h("td", { class: "num" }, e.DurationMs), h("td", { class: "mono" }, h("div", { class: "cellval", title: e.Detail || e.Response || "" }, e.Detail || e.Response || ""))))))
        : h("p", { class: "muted" }, "No invocations yet."),
      invocationBox,
      h("h2", {}, `Failure documents (${info.Failures.length})`),
      info.Failures.length ? h("div", { id: "failures" }, info.Failures.slice(-5).reverse().map(pre)) : h("p", { class: "muted" }, "None."));
  };
  await render();
  let last = "";
  onStatus((status) => {
    const mine = JSON.stringify(status.Triggers.find((t) => t.UUID === uuid) || null);
    if (mine !== last) { last = mine; render().catch((error) => box.replaceChildren(errorBox(error))); }
  });
});

// -- Kinesis, replication ---------------------------------------------------------------

route("kinesis", async (main) => {
  main.append(h("h1", {}, `Kinesis streams in ${state.region}`));
  const [info, destinations] = await Promise.all([getJSON(`${API}/kinesis?Region=${state.region}`), getJSON("/_emulator/kinesis/destinations")]);
  if (!info.Streams.length) main.append(h("p", { class: "muted" }, "No Kinesis streams (the Kinesis API is served on the same port)."));
  for (const { Summary: s, Shards: shards } of info.Streams) {
    const stats = destinations.Destinations[s.StreamARN];
    main.append(h("div", { class: "panel" }, h("h2", { style: "margin-top:0" }, s.StreamName, " ", stateBadge(s.StreamStatus)),
      facts([["ARN", h("span", { class: "mono" }, s.StreamARN)], ["Mode", (s.StreamModeDetails || {}).StreamMode],
        ["Retention", `${s.RetentionPeriodHours} h`], ["Open shards", String(s.OpenShardCount)],
        ["Consumers", String(s.ConsumerCount ?? 0)], stats ? ["As a table's destination", h("span", { class: "mono" }, JSON.stringify(stats))] : null]),
      h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Shard", "Parent", "Hash range", "Sequence range"].map((c) => h("th", {}, c)))),
        h("tbody", {}, shards.map((sh) => h("tr", {}, h("td", { class: "mono" }, sh.ShardId), h("td", { class: "mono" }, [sh.ParentShardId, sh.AdjacentParentShardId].filter(Boolean).join(", ")),
          h("td", { class: "mono" }, `${sh.HashKeyRange.StartingHashKey.slice(0, 12)}… – ${sh.HashKeyRange.EndingHashKey.slice(0, 12)}…`),
          h("td", { class: "mono" }, `${sh.SequenceNumberRange.StartingSequenceNumber} – ${sh.SequenceNumberRange.EndingSequenceNumber || "open"}`)))))));
  }
  main.append(h("p", { class: "muted" }, `Destination outbox: ${destinations.OutboxRecords} record(s), oldest ${destinations.AgeOfOldestUnreplicatedRecordMillis} ms.`));
});

route("replication", async (main) => {
  main.append(h("h1", {}, "Replication"));
  const box = h("div", {});
  main.append(box);
  const render = (info) => {
    const lag = info.AppliedLagMillis || {};
    box.replaceChildren(
      h("div", { class: "panel" }, facts([["Paused", info.Paused ? "yes" : "no"],
        ["Applied lag", lag.Samples ? `p50 ${lag.P50.toFixed(2)} ms · p99 ${lag.P99.toFixed(2)} ms (${lag.Samples} samples)` : "no samples yet"]])),
      h("h2", {}, "Global-table links"),
      info.Links.length ? h("table", { class: "grid", id: "replication" },
        h("thead", {}, h("tr", {}, ["Table", "From", "To", "State", "Pending", "Applied", "Lag (ms)"].map((c) => h("th", {}, c)))),
        h("tbody", {}, info.Links.map((l) => h("tr", {}, h("td", {}, l.TableName), h("td", {}, l.SourceRegion), h("td", {}, l.DestinationRegion),
          h("td", {}, stateBadge(l.State)), h("td", { class: "num" }, l.PendingWrites), h("td", { class: "num" }, l.AppliedWrites), h("td", { class: "num" }, l.LagMillis.toFixed(1))))))
        : h("p", { class: "muted" }, "No replicas (UpdateTable ReplicaUpdates makes one)."),
      h("h2", {}, "To other endpoints"),
      (info.External || []).length ? pre(info.External) : h("p", { class: "muted" }, "None."));
  };
  render(await getJSON("/_emulator/replication"));
  onStatus(async () => render(await getJSON("/_emulator/replication")));
});

// -- item history ------------------------------------------------------------------------

route("history", async (main, region, name, key) => {
  const overview = await loadOverview();
  if (region) state.region = region;
  main.append(h("h1", {}, "Item history"));
  const logged = overview.Tables.filter((t) => t.Region === state.region && t.ChangeLog);
  if (!logged.length) {
    main.append(h("p", { class: "muted" }, "No table here keeps a change log. Start the emulator with --change-log, or turn on point-in-time recovery for a table."));
    return;
  }
  const table = h("select", { id: "history-table" }, logged.map((t) => h("option", { value: t.TableName, selected: t.TableName === name }, t.TableName)));
  const keyInput = h("input", { type: "text", class: "wide", id: "history-key", placeholder: '{"pk": "user#1"}  (plain or DynamoDB JSON)', value: key ? JSON.stringify(plainItem(JSON.parse(key))) : "" });
  const out = h("div", {});
  const show = async () => {
    out.replaceChildren();
    try {
      const params = new URLSearchParams({ TableName: table.value, Region: state.region });
      if (keyInput.value.trim()) {
        const parsed = JSON.parse(keyInput.value);
        const typed = Object.values(parsed).every((v) => v && typeof v === "object" && !Array.isArray(v));
        params.set("Key", JSON.stringify(typed ? parsed : typedItem(parsed)));
      }
      const response = await call(`/_emulator/history?${params}`);
      const text = await response.text();
      if (!response.ok) throw new Error(JSON.parse(text).message || JSON.parse(text).error || text);
      const records = text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).reverse().slice(0, 200);
      out.append(h("p", { class: "muted" }, `${records.length} change(s), newest first`),
        h("table", { class: "grid", id: "history" }, h("thead", {}, h("tr", {}, ["Time", "Event", "Keys", "New image", "Old image"].map((c) => h("th", {}, c)))),
          h("tbody", {}, records.map((r) => h("tr", {}, h("td", {}, when(r.dynamodb.ApproximateCreationDateTime)), h("td", {}, badge(r.eventName, r.eventName)),
            h("td", { class: "keys mono" }, keyText(r.dynamodb.Keys)),
            h("td", {}, h("div", { class: "cellval" }, r.dynamodb.NewImage ? JSON.stringify(plainItem(r.dynamodb.NewImage)) : "")),
            h("td", {}, h("div", { class: "cellval" }, r.dynamodb.OldImage ? JSON.stringify(plainItem(r.dynamodb.OldImage)) : "")))))));
    } catch (error) { out.append(errorBox(error)); }
  };
  main.append(h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); show(); } },
    h("label", { class: "field" }, "Table", table), h("label", { class: "field" }, "Key (empty: the whole table)", keyInput),
    h("button", { class: "primary", type: "submit" }, "Show")), out);
  if (name) show();
});

// -- clock ------------------------------------------------------------------------------

route("clock", async (main) => {
  main.append(h("h1", {}, "Clock"));
  const box = h("div", { class: "panel" });
  const note = h("div", {});
  const seconds = h("input", { type: "number", id: "advance-seconds", value: "60", style: "width:110px" });
  const show = async (clock) => {
    clock = clock || await getJSON("/_emulator/clock");
    box.replaceChildren(facts([["Mode", clock.mode === "real" ? "real time" : "manual (moves only when told)"], ["Now", `${when(clock.now)} UTC (${clock.now.toFixed(3)})`]]));
    const shown = clock.mode === "real" ? { mode: "real", offset: clock.now - Date.now() / 1000 } : clock;
    state.status = { ...(state.status || {}), Clock: shown };
    renderClock();
  };
  const command = async (body) => {
    try { await show(await postJSON("/_emulator/clock", body)); note.replaceChildren(h("span", { class: "notice" }, "Done.")); } catch (error) { note.replaceChildren(errorBox(error)); }
  };
  main.append(box, h("div", { class: "toolbar" },
    h("button", { id: "clock-real", onclick: () => command({ mode: "real" }) }, "Real time"),
    h("button", { id: "clock-manual", onclick: () => command({ mode: "manual" }) }, "Freeze (manual)"),
    h("label", { class: "field" }, "Seconds", seconds),
    h("button", { class: "primary", id: "clock-advance", onclick: () => command({ advance: Number(seconds.value) }) }, "Advance")),
    h("p", { class: "muted" }, "Advancing runs whatever fell due: TTL deletes, shard rollovers, retention trimming, trigger batching windows."),
    note);
  await show();
});

// -- start ----------------------------------------------------------------------------------

document.getElementById("region").addEventListener("change", (e) => {
  state.region = e.target.value;
  localStorage.setItem("console.region", state.region);
  navigate();
});
window.addEventListener("hashchange", navigate);
loadOverview().then(() => { startStatus(); navigate(); }).catch((error) => {
  document.getElementById("main").replaceChildren(errorBox(error));
});
