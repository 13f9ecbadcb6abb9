// LTI Dynamic Registration, last step: tell the platform (Moodle, Canvas) that Jalon is
// registered, so it closes the registration frame or window and carries on.
(function () {
  "use strict";
  var message = {subject: "org.imsglobal.lti.close"};

  function close() {
    var platform = window.opener || window.parent;
    if (platform && platform !== window) {
      // The platform's page may be on another host than its issuer (Canvas): any origin.
      platform.postMessage(message, "*");
    }
  }

  document.querySelectorAll("[data-lti-close]").forEach(function (button) {
    button.addEventListener("click", close);
  });
  close();
})();
