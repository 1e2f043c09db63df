// The live pages of `sweep serve`: poll what the page shows (its data-status
// URL, JSON with a version) and reload the page when it changed. Unticking
// its "reload" box stops the reloads (in this tab, until ticked again); the
// page then says when it is out of date.
(function () {
  "use strict";
  var me = document.currentScript;
  var url = me.getAttribute("data-status");
  var shown = me.getAttribute("data-version");
  var every = parseInt(me.getAttribute("data-every"), 10) || 2000;
  var state = document.getElementById("live-state");
  var on = document.getElementById("live-on");
  var changed = false;
  function say(text) {
    if (state) { state.textContent = text; }
  }
  function check() {
    if (document.hidden) { // a hidden tab asks again when shown
      document.addEventListener("visibilitychange", check, { once: true });
      return;
    }
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (st) {
        changed = st.version !== shown;
        if (changed && (!on || on.checked)) {
          say("changed: reloading");
          location.reload();
          return;
        }
        var at = new Date().toLocaleTimeString();
        say(changed ? "changed since this page was loaded (checked " + at + "): reload to see it" : "up to date at " + at);
        setTimeout(check, every);
      }, function (e) {
        say("cannot reach the server (" + e.message + "); trying again");
        setTimeout(check, 2 * every);
      });
  }
  // The box's state is kept for the tab, not restored by the browser
  // (autocomplete="off"): a reload keeps it unticked.
  var key = "sweep-serve-reload";
  if (on) {
    try { on.checked = sessionStorage.getItem(key) !== "off"; } catch (e) { /* no storage: ticked */ }
    on.addEventListener("change", function () {
      try { sessionStorage.setItem(key, on.checked ? "on" : "off"); } catch (e) { /* no storage */ }
      if (on.checked && changed) { location.reload(); }
    });
  }
  setTimeout(check, every);
})();
