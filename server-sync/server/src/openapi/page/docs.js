// Renders /api/openapi.json: operations grouped by tag, each with its
// access, security, parameters and schemas. Text only through textContent
// (no HTML from the document is ever parsed).
"use strict";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function resolve(doc, schema) {
  const ref = schema && schema.$ref;
  if (!ref || !ref.startsWith("#/components/schemas/")) return schema;
  return { [ref]: doc.components.schemas[ref.slice(21)] };
}

function schemaBlock(doc, title, content) {
  const d = el("details");
  d.appendChild(el("summary", null, title));
  for (const [ct, media] of Object.entries(content || {})) {
    d.appendChild(el("div", null, ct));
    d.appendChild(el("pre", null, JSON.stringify(resolve(doc, media.schema), null, 2)));
  }
  return d;
}

function operation(doc, path, method, op) {
  const d = el("details", "op");
  d.dataset.search = [path, op.summary, (op.tags || []).join(" "), op["x-access"]].join(" ").toLowerCase();
  const s = el("summary");
  s.appendChild(el("span", "method " + method, method.toUpperCase()));
  s.appendChild(el("span", "path", path));
  s.appendChild(el("span", null, op.summary || ""));
  s.appendChild(el("span", "access", op["x-access"] || ""));
  d.appendChild(s);
  const b = el("div", "body");
  const sec = (op.security || []).map((r) => Object.entries(r).map(([k, v]) => v.length ? k + " (" + v.join(", ") + ")" : k).join(" + "));
  b.appendChild(el("p", null, "Security: " + (sec.length ? sec.join(" or ") : "none")));
  if (op.parameters && op.parameters.length) {
    const t = el("table");
    const h = el("tr");
    ["name", "in", "required", "description"].forEach((c) => h.appendChild(el("th", null, c)));
    t.appendChild(h);
    for (const p of op.parameters) {
      const r = el("tr");
      [p.name, p.in, p.required ? "yes" : "no", p.description || ""].forEach((c) => r.appendChild(el("td", null, c)));
      t.appendChild(r);
    }
    b.appendChild(t);
  }
  if (op.requestBody) b.appendChild(schemaBlock(doc, "Request body", op.requestBody.content));
  for (const [code, resp] of Object.entries(op.responses || {})) {
    if (resp.content) b.appendChild(schemaBlock(doc, code + " " + resp.description, resp.content));
    else b.appendChild(el("div", null, code + " " + resp.description));
  }
  d.appendChild(b);
  return d;
}

function render(doc) {
  document.getElementById("version").textContent = doc.info.version;
  const byTag = new Map();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(doc, path, method, op));
    }
  }
  const main = document.getElementById("ops");
  main.textContent = "";
  for (const [tag, ops] of byTag) {
    const sec = el("section");
    sec.appendChild(el("h2", null, tag + " (" + ops.length + ")"));
    ops.forEach((o) => sec.appendChild(o));
    main.appendChild(sec);
  }
  const security = document.getElementById("security");
  security.appendChild(el("h2", null, "Security schemes"));
  for (const [name, s] of Object.entries(doc.components.securitySchemes)) {
    const p = el("p");
    p.appendChild(el("strong", null, name + ": "));
    p.appendChild(document.createTextNode(s.description || s.type));
    security.appendChild(p);
  }
  document.getElementById("filter").addEventListener("input", (e) => {
    const q = e.target.value.trim().toLowerCase();
    document.querySelectorAll("details.op").forEach((d) => {
      d.classList.toggle("hidden", q !== "" && !d.dataset.search.includes(q));
    });
  });
}

fetch("/api/openapi.json", { credentials: "same-origin" })
  .then((r) => r.json())
  .then(render)
  .catch((e) => { document.getElementById("ops").textContent = "Could not load the description: " + e; });
