"use strict";
// Small behaviours of every signed-in page, here rather than in inline handlers: the
// Content-Security-Policy runs no inline script.
//   <select data-autosubmit>  submits its form when the choice changes (the language switcher).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field instanceof HTMLElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
  }
});
