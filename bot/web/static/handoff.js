/* The live conversation view of the reps' inbox: new messages appear as they are written,
 * replies are sent without reloading the page. Without JavaScript the page still works
 * (forms post and come back). Text is rendered as text, never as HTML. */
(function () {
  "use strict";
  var list = document.querySelector("ol.transcript");
  if (!list) return;
  var url = list.getAttribute("data-events");
  var after = Number(list.getAttribute("data-after")) || 0;
  var stateNode = document.getElementById("handoff-state");
  var state = stateNode ? stateNode.getAttribute("data-state") : "";
  var busy = false;

  function line(item) {
    var li = document.createElement("li");
    li.className = item.who;
    if (item.label) {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = item.label;
      li.appendChild(who);
    }
    if (item.at) {
      var when = document.createElement("span");
      when.className = "muted";
      var time = document.createElement("time");
      time.setAttribute("datetime", item.at);
      time.textContent = item.at_label;
      when.appendChild(time);
      li.appendChild(when);
    }
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = item.text;
    li.appendChild(text);
    return li;
  }

  function refresh() {
    if (busy) return;
    busy = true;
    var sep = url.indexOf("?") >= 0 ? "&" : "?";
    fetch(url + sep + "after=" + encodeURIComponent(after), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        var empty = list.querySelector("li.note:only-child");
        (body.lines || []).forEach(function (item) {
          if (empty) { empty.remove(); empty = null; }
          list.appendChild(line(item));
          if (item.ts > after) after = item.ts;
        });
        if (body.lines && body.lines.length) list.scrollTop = list.scrollHeight;
        // Someone (else) took it over, handed it back or closed it: show the right buttons.
        if (body.state && body.state !== state) window.location.reload();
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { busy = false; });
  }

  var reply = document.getElementById("reply");
  if (reply) {
    reply.addEventListener("submit", function (event) {
      event.preventDefault();
      var box = reply.querySelector("textarea");
      if (!box.value.trim()) return;
      var body = new URLSearchParams(new FormData(reply)); // the text and the CSRF token
      var button = reply.querySelector("button");
      button.disabled = true;
      fetch(reply.getAttribute("action"), {
        method: "POST", credentials: "same-origin", body: body,
        headers: { Accept: "application/json" }
      }).then(function (response) {
        if (response.ok) { box.value = ""; refresh(); }
        else { reply.submit(); } // let the server explain on a page
      }).catch(function () { reply.submit(); })
        .then(function () { button.disabled = false; box.focus(); });
    });
  }
  list.scrollTop = list.scrollHeight;
  setInterval(refresh, 2000);
})();
