// Winnow console: progressive enhancement only. Every page works without this file.
// - fills the sign-in form's time zone from the browser;
// - keyboard shortcuts: an element with data-key="x" is activated by the key x (a link is
//   followed, a button pressed, a field focused); "?" opens the help; "g" then a letter goes to
//   a page. Keys typed into a field are the field's, except Escape, which leaves it.
(function () {
  "use strict";

  function zone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; }
    catch (e) { return "UTC"; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-time-zone]").forEach(function (el) { el.value = zone(); });
  });

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "TEXTAREA" || tag === "SELECT" ||
      (tag === "INPUT" && !/^(checkbox|radio|submit|button|reset)$/.test(el.type));
  }

  function help() {
    var d = document.getElementById("help");
    if (!d || typeof d.showModal !== "function") return;
    if (d.open) d.close(); else d.showModal();
  }

  var GO = { o: "/", r: "/review", s: "/samples", i: "/items", d: "/datasets", k: "/skew" };
  var pendingG = false;

  // Single-key shortcuts can be turned off (WCAG 2.1.4), from the help dialog; "?" stays.
  var STORE = "winnow.shortcuts";
  function enabled() {
    try { return window.localStorage.getItem(STORE) !== "off"; } catch (e) { return true; }
  }
  function showToggle() {
    var b = document.getElementById("toggle-keys");
    if (!b) return;
    b.hidden = false;
    b.textContent = enabled() ? "Turn single-key shortcuts off" : "Turn single-key shortcuts on";
    b.setAttribute("aria-pressed", enabled() ? "false" : "true");
  }
  document.addEventListener("DOMContentLoaded", function () {
    showToggle();
    var b = document.getElementById("toggle-keys");
    if (b) b.addEventListener("click", function () {
      try { window.localStorage.setItem(STORE, enabled() ? "off" : "on"); } catch (e) { /* private mode */ }
      showToggle();
    });
  });

  function activate(el) {
    if (el.tagName === "TEXTAREA") {  // the cursor at the end: never select (and so replace) a note
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
      return true;
    }
    if (el.matches("input, select")) { el.focus(); if (el.select) el.select(); return true; }
    if (el.disabled) return false;
    el.focus();
    el.click();
    return true;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var target = ev.target;
    if (typing(target)) {
      if (ev.key === "Escape") { target.blur(); ev.preventDefault(); }
      return;
    }
    var key = ev.key;
    if (pendingG) {
      pendingG = false;
      if (GO[key]) { window.location.assign(GO[key]); ev.preventDefault(); }
      return;
    }
    if (key === "?") { help(); ev.preventDefault(); return; }
    if (document.querySelector("dialog[open]") || !enabled()) return;
    var el = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (el) {
      if (activate(el)) ev.preventDefault();
      return;
    }
    if (key === "g") { pendingG = true; window.setTimeout(function () { pendingG = false; }, 1500); }
  });
})();
