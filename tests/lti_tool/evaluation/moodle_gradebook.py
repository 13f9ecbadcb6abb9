"""A Moodle-shaped AGS gradebook served over HTTP on 127.0.0.1, for the grade delivery tests.

It follows ``mod/lti/service/gradebookservices`` (Moodle 4.x) where Jalon can notice it:

* ``POST …/lineitems/{item}/lineitem/scores?type_id=…`` (``resources/scores.php``): 400 for
  a score without ``userId``, ``timestamp``, ``gradingProgress`` or ``activityProgress``;
  **409 when the grade already held has ``timemodified >= strtotime(timestamp)``** (whole
  seconds: the fraction of the timestamp is dropped); else the grade is saved with
  ``timemodified`` = the timestamp's seconds and the answer is 200 with an empty body. The
  score is rescaled to the grade item's maximum (``save_grade_item``) and kept with five
  decimals (``grade_grades.finalgrade`` is DECIMAL(10,5)); ``scoreGiven`` is dropped
  unless ``gradingProgress`` is ``FullyGraded``; ``comment`` becomes the feedback.
* ``GET …/lineitem/results?type_id=…&user_id=…`` (``resources/results.php`` and
  ``gradebookservices::result_for_json``): one result per grade with a ``timemodified``:
  ``id`` (``…/results?type_id=…&user_id=…``) and ``userId`` always; ``resultScore``,
  ``resultMaximum`` (the item's maximum), ``comment`` (when there is feedback), ``scoreOf``
  and ``timestamp`` only when the grade has a value.
* ``GET …/lineitem?type_id=…``: the line item; ``POST /mod/lti/token.php``: a bearer token.

``lost_answers`` makes the next score posts be saved and then answered 500 (the answer
lost after the write, as when a PHP observer fails after the grade is stored); ``down``
answers 503 to everything (an outage). Every request is recorded in ``calls``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

ITEM = 7
TYPE_ID = 3
COURSE = 2


@dataclass
class Grade:
    """A row of ``grade_grades`` as the services see it."""

    finalgrade: float | None
    feedback: str | None
    timemodified: int


@dataclass
class MoodleGradebook:
    """One course, one grade item, served at ``base`` once started."""

    grademax: float = 16.0
    grades: dict[str, Grade] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    stored: list[dict[str, Any]] = field(default_factory=list)
    lost_answers: int = 0
    down: bool = False
    port: int = 0
    _server: BaseWSGIServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def lineitem_url(self) -> str:
        return (
            f"{self.base}/mod/lti/services.php/{COURSE}/lineitems/{ITEM}/lineitem"
            f"?type_id={TYPE_ID}"
        )

    def start(self) -> MoodleGradebook:
        server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = server.server_port
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def count(self, method: str, suffix: str) -> int:
        """Count the requests received with this method whose path ends with ``suffix``."""
        return sum(1 for m, path in self.calls if m == method and path.endswith(suffix))

    # -- the services -----------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.calls.append((request.method, request.path))
            response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if self.down:
            return Response("Service Unavailable", 503)
        item_path = f"/mod/lti/services.php/{COURSE}/lineitems/{ITEM}/lineitem"
        if request.path == "/mod/lti/token.php" and request.method == "POST":
            token = {"access_token": "moodle-token", "token_type": "Bearer", "expires_in": 3600}
            return _json(token)
        if request.args.get("type_id") != str(TYPE_ID):
            return Response(status=403)
        if request.path == item_path and request.method == "GET":
            return _json(
                {
                    "id": self.lineitem_url,
                    "label": "E1",
                    "scoreMaximum": self.grademax,
                    "resourceLinkId": "1",
                    "tag": "",
                }
            )
        if request.path == f"{item_path}/scores" and request.method == "POST":
            return self._score(request)
        if request.path == f"{item_path}/results" and request.method == "GET":
            return self._results(request, item_path)
        return Response(status=404)

    def _score(self, request: Request) -> Response:
        score = json.loads(request.get_data() or b"null")
        required = ("userId", "timestamp", "gradingProgress", "activityProgress")
        if not isinstance(score, dict) or any(name not in score for name in required):
            return Response("Incorrect score received", 400)
        user = str(score["userId"])
        seconds = int(dt.datetime.fromisoformat(score["timestamp"]).timestamp())
        held = self.grades.get(user)
        if held is not None and held.timemodified >= seconds:
            return Response(
                f"Refusing score with an earlier timestamp for item {ITEM} and user {user}", 409
            )
        given = score.get("scoreGiven") if score["gradingProgress"] == "FullyGraded" else None
        finalgrade = None
        if given is not None:
            maximum = float(score.get("scoreMaximum", 1))
            finalgrade = round(float(given) * self.grademax / maximum, 5)
        self.grades[user] = Grade(finalgrade, score.get("comment") or None, seconds)
        self.stored.append(score)
        if self.lost_answers:
            self.lost_answers -= 1
            return Response("Internal Server Error", 500)
        return Response(b"", 200, content_type="application/vnd.ims.lis.v1.score+json")

    def _results(self, request: Request, item_path: str) -> Response:
        endpoint = f"{self.base}{item_path}"
        wanted = request.args.get("user_id")
        documents = []
        for user, grade in self.grades.items():
            if wanted and user != wanted:
                continue
            result: dict[str, Any] = {
                "id": f"{endpoint}/results?type_id={TYPE_ID}&user_id={user}",
                "userId": user,
            }
            if grade.finalgrade is not None:
                result["resultScore"] = grade.finalgrade
                result["resultMaximum"] = self.grademax
                if grade.feedback:
                    result["comment"] = grade.feedback
                result["scoreOf"] = f"{endpoint}?type_id={TYPE_ID}"
                stamp = dt.datetime.fromtimestamp(grade.timemodified, dt.UTC)
                result["timestamp"] = stamp.isoformat()
            documents.append(result)
        return _json(documents, "application/vnd.ims.lis.v2.resultcontainer+json")


def _json(document: Any, content_type: str = "application/json") -> Response:
    return Response(json.dumps(document), 200, content_type=content_type)
