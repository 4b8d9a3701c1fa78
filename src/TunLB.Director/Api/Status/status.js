(function () {
  "use strict";
  var live = document.getElementById("live"), list = document.getElementById("events");
  var state = document.getElementById("live-state"), msg = document.getElementById("msg"), token = document.getElementById("token");
  token.value = sessionStorage.getItem("tunlb-token") || "";
  token.addEventListener("input", function () { sessionStorage.setItem("tunlb-token", token.value); });

  function show(text, ok) { msg.textContent = text; msg.className = ok ? "ok" : "bad"; }
  function busy() { var a = document.activeElement; return a && a.tagName === "INPUT" && live.contains(a); }

  var pending = false;
  function refresh() {
    if (pending || busy()) return;
    pending = true;
    fetch("status/live", { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (html) {
      live.innerHTML = html;
      state.className = "on"; state.textContent = "live";
    }).catch(function (e) {
      state.className = "off"; state.textContent = "disconnected (" + e.message + ")";
    }).then(function () { pending = false; });
  }
  setInterval(refresh, 2000);
  state.className = "on"; state.textContent = "live";

  function addEvent(e) {
    if (list.querySelector('li[data-id="' + e.id + '"]')) return;
    var li = document.createElement("li");
    li.className = "ev " + e.kind; li.dataset.id = e.id;
    var t = document.createElement("time"); t.dateTime = e.time; t.textContent = e.time.replace("T", " ").replace(/\.\d+Z$/, "Z");
    var b = document.createElement("b"); b.textContent = e.kind;
    li.appendChild(t); li.appendChild(document.createTextNode(" ")); li.appendChild(b); li.appendChild(document.createTextNode(" "));
    [["svc", e.service], ["real", e.real], ["m", e.message]].forEach(function (p) {
      if (p[1] == null) return;
      var s = document.createElement("span"); s.className = p[0]; s.textContent = p[1];
      li.appendChild(s); li.appendChild(document.createTextNode(" "));
    });
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 200) list.removeChild(list.lastChild);
    list.dataset.last = e.id;
  }
  if (window.EventSource) {
    var es = new EventSource("api/v1/events/stream?since=" + encodeURIComponent(list.dataset.last || "0"));
    es.onmessage = function (m) { addEvent(JSON.parse(m.data)); refresh(); };
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button[data-op]");
    if (!btn) return;
    ev.preventDefault();
    var form = btn.closest("form.act"), path = form.dataset.path, op = btn.dataset.op;
    var req = { method: "POST", headers: {} }, url = path + "/" + ({ drain: "drain", maint: "maintenance", ready: "ready" })[op];
    if (op === "weight") {
      url = path; req.method = "PUT";
      req.headers["Content-Type"] = "application/json";
      req.body = JSON.stringify({ weight: Number(form.querySelector("input[name=weight]").value) });
    }
    if (token.value) req.headers["Authorization"] = "Bearer " + token.value;
    var real = form.closest("tr").dataset.real;
    fetch(url, req).then(function (r) {
      return r.text().then(function (body) {
        if (r.ok) { show(op + " " + real + ": done", true); refresh(); return; }
        var why = body; try { why = JSON.parse(body).error; } catch (e) { }
        show(op + " " + real + " refused (" + r.status + "): " + why, false);
      });
    }).catch(function (e) { show(op + " " + real + " failed: " + e.message, false); });
  });
})();
