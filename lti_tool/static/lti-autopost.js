// Post the deep-linking answer to the platform as soon as the page is read. Without
// JavaScript, the form's <noscript> button does the same. A static file: the CSP forbids
// inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) {
    form.submit();
  }
});
