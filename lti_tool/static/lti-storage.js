/* LTI client-side platform storage (1EdTech "LTI postMessage Storage").
 *
 * When third-party cookies are blocked, the platform lends a frame (lti_storage_target)
 * that stores small values for the tool. At login Jalon stores the state and nonce there
 * ("put" mode) before going to the platform; at launch it reads them back ("get" mode)
 * and, only if they match, confirms the launch with a same-origin request carrying a
 * header that a cross-site form cannot send.
 */
(function () {
  "use strict";

  var node = document.getElementById("lti-storage-data");
  if (!node) {
    return;
  }
  var data = JSON.parse(node.textContent);
  var TIMEOUT_MS = 2000;

  function randomId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return "jalon-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function targetFrame() {
    var parentWindow = window.opener || window.parent;
    if (data.target === "_parent") {
      return parentWindow;
    }
    try {
      if (parentWindow.frames[data.target]) {
        return parentWindow.frames[data.target];
      }
    } catch (error) {
      /* A cross-origin frame list may refuse access: fall back to the parent. */
    }
    return parentWindow;
  }

  function send(message) {
    return new Promise(function (resolve, reject) {
      var timer;
      message.message_id = randomId();
      function onMessage(event) {
        var answer = event.data || {};
        if (answer.message_id !== message.message_id) {
          return;
        }
        if (event.origin !== data.origin || answer.subject !== message.subject + ".response") {
          return;
        }
        window.removeEventListener("message", onMessage);
        window.clearTimeout(timer);
        if (answer.error) {
          reject(answer.error);
        } else {
          resolve(answer);
        }
      }
      window.addEventListener("message", onMessage);
      timer = window.setTimeout(function () {
        window.removeEventListener("message", onMessage);
        reject({code: "timeout"});
      }, TIMEOUT_MS);
      targetFrame().postMessage(message, data.origin);
    });
  }

  function put(key, value) {
    return send({subject: "lti.put_data", key: key, value: value});
  }

  function get(key) {
    return send({subject: "lti.get_data", key: key}).then(function (answer) {
      return answer.value;
    });
  }

  if (data.mode === "put") {
    put("lti_state_" + data.state, data.state)
      .then(function () { return put("lti_nonce_" + data.nonce, data.nonce); })
      .catch(function () { /* The state cookie may still work: go on. */ })
      .then(function () { window.location.replace(data.next); });
    return;
  }

  function refuse() {
    window.location.replace(data.refused);
  }

  Promise.all([get("lti_state_" + data.state), get("lti_nonce_" + data.nonce)])
    .then(function (values) {
      if (values[0] !== data.state || values[1] !== data.nonce) {
        throw new Error("state mismatch");
      }
      var form = document.getElementById("lti-launch-form");
      return window.fetch(data.launch, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        headers: {"Accept": "application/json", "X-Jalon-Storage": "checked"}
      });
    })
    .then(function (response) { return response.json(); })
    .then(function (answer) { window.location.replace(answer.redirect || answer.page); })
    .catch(refuse);
}());
