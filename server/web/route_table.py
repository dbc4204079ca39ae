"""The route table: every path the server answers, in one place (tests/test_fuzz.py reads
it from this file's text, tests/test_nginx_conf.py checks nginx knows the big-body paths).

Kept apart from server/web/app.py, which builds the application around it (middleware,
lifespan, error pages).
"""

from __future__ import annotations

from pathlib import Path

from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from server.web import ws
from server.web.routes import account as routes_account
from server.web.routes import attendance as routes_attendance
from server.web.routes import audit as routes_audit
from server.web.routes import bodies as routes_bodies
from server.web.routes import cards as routes_cards
from server.web.routes import charts as routes_charts
from server.web.routes import commitments as routes_commitments
from server.web.routes import deputy as routes_deputy
from server.web.routes import duty as routes_duty
from server.web.routes import followup as routes_followup
from server.web.routes import followup_files as routes_followup_files
from server.web.routes import followup_phone as routes_followup_phone
from server.web.routes import followup_public as routes_followup_public
from server.web.routes import followup_report as routes_followup_report
from server.web.routes import hall as routes_hall
from server.web.routes import leave as routes_leave
from server.web.routes import meetings as routes_meetings
from server.web.routes import members as routes_members
from server.web.routes import minutes as routes_minutes
from server.web.routes import organ_items as routes_organ_items
from server.web.routes import organs as routes_organs
from server.web.routes import people as routes_people
from server.web.routes import presidium as routes_presidium
from server.web.routes import questions as routes_questions
from server.web.routes import readiness as routes_readiness
from server.web.routes import record as routes_record
from server.web.routes import rehearsals as routes_rehearsals
from server.web.routes import results as routes_results
from server.web.routes import review_phone as routes_review_phone
from server.web.routes import roster as routes_roster
from server.web.routes import screen as routes_screen
from server.web.routes import script as routes_script
from server.web.routes import staff as routes_staff
from server.web.routes import start as routes_start
from server.web.routes.home import healthz, index

STATIC = Path(__file__).resolve().parent / "static"  # package data: found where the package is


class PathId(IntegerConvertor):
    """An id in a path has at most nine digits, so it fits every database's integer.

    A longer one matches no route and gets the 404 page; it never reaches a query, where
    SQLite raises OverflowError past 2**63 and PostgreSQL an error past 2**31.
    """

    regex = "[0-9]{1,9}"


# Every route's {name:int} is a PathId. Routes are compiled when they are built, so they
# are built only inside routes(), after this line: a list made at a module's import time
# would keep Starlette's own convertor (an id of 10,000 digits answered 500).
register_url_convertor("int", PathId())

POST = ["POST"]


def routes() -> list[Route | WebSocketRoute | Mount]:
    return [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/start", routes_start.start),
        Route("/login", routes_staff.login_form, methods=["GET"]),
        Route("/login", routes_staff.login, methods=["POST"]),
        Route("/logout", routes_staff.logout, methods=["POST"]),
        Route("/account/password", routes_account.password_form, methods=["GET"]),
        Route("/account/password", routes_account.change_password, methods=["POST"]),
        Route("/admin/users", routes_account.users, methods=["GET"]),
        Route("/admin/users", routes_account.add_user, methods=["POST"]),
        Route("/admin/users/{user_id:int}/password", routes_account.reset_password, methods=["POST"]),
        Route("/admin/users/{user_id:int}/roles", routes_account.set_roles, methods=["POST"]),
        Route("/bodies", routes_bodies.bodies_list),
        Route("/bodies/new", routes_bodies.new_body, methods=["GET", "POST"]),
        Route("/bodies/{body_id:int}", routes_bodies.body_page),
        Route("/bodies/{body_id:int}/edit", routes_bodies.edit_body, methods=["GET", "POST"]),
        Route("/bodies/{body_id:int}/terms", routes_bodies.add_term, methods=["POST"]),
        Route("/bodies/{body_id:int}/terms/{term_id:int}", routes_bodies.edit_term, methods=["POST"]),
        Route(
            "/bodies/{body_id:int}/terms/{term_id:int}/sessions", routes_bodies.add_session, methods=["POST"]
        ),
        Route("/bodies/{body_id:int}/roster", routes_roster.roster),
        Route("/bodies/{body_id:int}/roster/preview", routes_roster.preview, methods=["POST"]),
        Route("/bodies/{body_id:int}/roster/confirm", routes_roster.confirm, methods=["POST"]),
        Route("/bodies/{body_id:int}/roster.xlsx", routes_roster.export),
        Route("/bodies/{body_id:int}/organs", routes_organs.organs_page, methods=["GET"]),
        Route("/bodies/{body_id:int}/organs", routes_organs.add, methods=["POST"]),
        Route("/bodies/{body_id:int}/organs/preview", routes_organs.preview, methods=["POST"]),
        Route("/bodies/{body_id:int}/organs/confirm", routes_organs.confirm, methods=["POST"]),
        Route("/bodies/{body_id:int}/organs/{organ_id:int}", routes_organs.edit, methods=["POST"]),
        Route("/bodies/{body_id:int}/organs/{organ_id:int}/revoke", routes_organs.revoke, methods=["POST"]),
        Route("/bodies/{body_id:int}/organs/{organ_id:int}/notice", routes_organs.notice),
        Route("/o/{token}", routes_organs.organ_page),
        Route("/bodies/{body_id:int}/roster/by-election", routes_members.by_election, methods=["POST"]),
        Route("/bodies/{body_id:int}/deputies/{deputy_id:int}/end", routes_members.end_mandate, methods=POST),
        Route("/bodies/{body_id:int}/deputies/{deputy_id:int}/suspend", routes_members.suspend, methods=POST),
        Route(
            "/bodies/{body_id:int}/deputies/{deputy_id:int}/suspensions/{suspension_id:int}/end",
            routes_members.end_suspension,
            methods=POST,
        ),
        Route("/bodies/{body_id:int}/officials/preview", routes_roster.officials_preview, methods=["POST"]),
        Route("/bodies/{body_id:int}/officials/confirm", routes_roster.officials_confirm, methods=["POST"]),
        Route(
            "/bodies/{body_id:int}/officials/{official_id:int}",
            routes_people.edit_official,
            methods=["GET", "POST"],
        ),
        Route(
            "/bodies/{body_id:int}/deputies/{deputy_id:int}",
            routes_people.edit_deputy,
            methods=["GET", "POST"],
        ),
        # attendance history and leave (server/office/attendance_history.py, leave.py)
        Route("/bodies/{body_id:int}/attendance", routes_attendance.body_page),
        Route("/bodies/{body_id:int}/attendance.xlsx", routes_attendance.body_xlsx),
        Route(
            "/bodies/{body_id:int}/deputies/{deputy_id:int}/attendance",
            routes_attendance.member_page,
            methods=["GET", "POST"],
        ),
        Route(
            "/bodies/{body_id:int}/deputies/{deputy_id:int}/attendance.xlsx", routes_attendance.member_xlsx
        ),
        # duty records (履职记录, issue 19): one member's, the body's or a group's XLSX, 我的履职
        Route("/bodies/{body_id:int}/deputies/{deputy_id:int}/duty", routes_duty.staff_page),
        Route("/bodies/{body_id:int}/duty.xlsx", routes_duty.body_xlsx),
        Route("/d/{meeting_id:int}/duty", routes_duty.phone_page),
        Route("/m/{meeting_id:int}/leave", routes_leave.staff_page, methods=["GET", "POST"]),
        Route("/d/{meeting_id:int}/leave", routes_leave.phone, methods=["GET", "POST"]),
        Route("/bodies/{body_id:int}/presidium", routes_presidium.presidium_page, methods=["GET", "POST"]),
        Route("/meetings", routes_meetings.meetings),
        Route("/meetings/new", routes_meetings.new_meeting, methods=["GET", "POST"]),
        Route("/meetings/{meeting_id:int}/edit", routes_meetings.edit_meeting, methods=["GET", "POST"]),
        Route("/meetings/{meeting_id:int}/clone", routes_meetings.clone_meeting, methods=["POST"]),
        Route("/meetings/{meeting_id:int}/rehearsal", routes_rehearsals.create, methods=["POST"]),
        Route("/meetings/{meeting_id:int}/rehearsal/reset", routes_rehearsals.reset, methods=["POST"]),
        Route("/m/{meeting_id:int}/console", routes_staff.console),
        Route("/m/{meeting_id:int}/readiness", routes_readiness.panel),
        Route("/m/{meeting_id:int}/act", routes_staff.act, methods=["POST"]),
        Route("/m/{meeting_id:int}/roster", routes_staff.roster),
        Route("/m/{meeting_id:int}/pair", routes_staff.pair, methods=["POST"]),
        Route("/m/{meeting_id:int}/audit", routes_audit.audit_page),
        Route("/m/{meeting_id:int}/audit.csv", routes_audit.audit_csv),
        Route("/m/{meeting_id:int}/audit.xlsx", routes_audit.audit_xlsx),
        Route("/m/{meeting_id:int}/cards", routes_cards.cards_page),
        Route("/m/{meeting_id:int}/cards.docx", routes_cards.cards_docx),
        Route("/m/{meeting_id:int}/cards/release-phones", routes_cards.release_phones, methods=["POST"]),
        Route("/m/{meeting_id:int}/cards/{deputy_id:int}/reissue", routes_cards.reissue, methods=["POST"]),
        Route("/m/{meeting_id:int}/cards/{deputy_id:int}/release", routes_cards.release, methods=["POST"]),
        Route("/m/{meeting_id:int}/cards/{deputy_id:int}/lock", routes_cards.lock, methods=["POST"]),
        Route("/m/{meeting_id:int}/cards/{deputy_id:int}/unlock", routes_cards.unlock, methods=["POST"]),
        Route("/m/{meeting_id:int}/projector", routes_screen.projector),
        Route("/m/{meeting_id:int}/podium", routes_screen.podium),
        Route("/m/{meeting_id:int}/live", routes_screen.public),
        Route("/m/{meeting_id:int}/script", routes_script.live),
        Route("/m/{meeting_id:int}/script/print", routes_script.printed),
        Route("/m/{meeting_id:int}/script/edit", routes_script.edit, methods=["GET", "POST"]),
        Route("/m/{meeting_id:int}/review", routes_questions.review, methods=["GET", "POST"]),
        Route("/m/{meeting_id:int}/reviewers", routes_presidium.reviewers_page, methods=["GET", "POST"]),
        Route("/m/{meeting_id:int}/followup", routes_followup.decision, methods=["GET", "POST"]),
        Route("/bodies/{body_id:int}/followup", routes_followup.board, methods=["GET", "POST"]),
        Route("/followup/{item_id:int}", routes_followup.item, methods=["GET", "POST"]),
        # an organ's posts and files; staff on its behalf; every notice at once (issue 18)
        Route("/followup/{item_id:int}/post", routes_followup_files.post, methods=["POST"]),
        Route("/followup/files/{file_id:int}", routes_followup_files.download),
        Route("/o/{token}/items/{item_id:int}", routes_organ_items.item_page, methods=["GET", "POST"]),
        Route("/o/{token}/files/{file_id:int}", routes_organ_items.download),
        Route("/bodies/{body_id:int}/organs/notices", routes_organs.notices),
        Route(
            "/bodies/{body_id:int}/followup/report",
            routes_followup_report.report_page,
            methods=["GET", "POST"],
        ),
        Route("/bodies/{body_id:int}/followup/report/{report_id:int}", routes_followup_report.report_file),
        Route("/m/{meeting_id:int}/charts/{kind}.svg", routes_charts.meeting_chart),
        Route("/m/{meeting_id:int}/live/charts/{kind}.svg", routes_charts.public_chart),
        Route("/bodies/{body_id:int}/charts/attendance.svg", routes_charts.attendance_chart),
        Route("/followup/{item_id:int}/public", routes_followup_public.set_public, methods=POST),
        Route("/followup/{item_id:int}/approval", routes_followup_public.approval, methods=POST),
        Route("/bodies/{body_id:int}/followup/public-notice", routes_followup_public.notice),
        Route("/public/bodies/{body_id:int}/followup", routes_followup_public.public_page),
        Route(
            "/m/{meeting_id:int}/questions/{question_id:int}/commitments",
            routes_commitments.panel,
            methods=["GET", "POST"],
        ),
        Route(
            "/m/{meeting_id:int}/questions/{question_id:int}/commitments/{commitment_id:int}/delete",
            routes_commitments.remove,
            methods=["POST"],
        ),
        # a meeting's results: staff page and files, the public page once closed (issue 19)
        Route("/m/{meeting_id:int}/results", routes_results.results_page),
        Route("/m/{meeting_id:int}/results.xlsx", routes_results.results_xlsx),
        Route("/m/{meeting_id:int}/results/{sheet}.csv", routes_results.results_csv),
        Route("/m/{meeting_id:int}/live/results", routes_results.public_page),
        # the proceedings (会议记录) of a meeting: print view with the note, and as DOCX (issue 19)
        Route("/m/{meeting_id:int}/record", routes_record.record_page, methods=["GET", "POST"]),
        Route("/m/{meeting_id:int}/record.docx", routes_record.record_docx),
        Route("/d/{meeting_id:int}/followup", routes_followup_phone.items),
        Route(
            "/d/{meeting_id:int}/followup/{item_id:int}", routes_followup_phone.item, methods=["GET", "POST"]
        ),
        Route("/d/{meeting_id:int}/review", routes_review_phone.review, methods=["GET", "POST"]),
        Route("/d/{meeting_id:int}/questions", routes_questions.phone, methods=["GET", "POST"]),
        Route("/i/{meeting_id:int}/{token}", routes_deputy.invitation, methods=["GET"]),
        Route("/i/{meeting_id:int}/{token}", routes_deputy.invitation_move, methods=["POST"]),
        Route("/whoami", routes_deputy.whoami),
        Route("/d/{meeting_id:int}", routes_deputy.deputy_page),
        Route("/d/{meeting_id:int}/bind", routes_hall.bind, methods=["POST"]),
        Route("/d/{meeting_id:int}/rate", routes_deputy.rate, methods=["POST"]),
        Route("/d/{meeting_id:int}/vote", routes_deputy.vote, methods=["POST"]),
        Route("/d/{meeting_id:int}/floor", routes_deputy.floor, methods=["POST"]),
        Route("/h/{meeting_id:int}/{code}", routes_hall.hall, methods=["GET"]),
        Route("/h/{meeting_id:int}/{code}", routes_hall.hall_check_in, methods=["POST"]),
        # the draft minutes (会议纪要) of a meeting (issue 19, server/record/minutes.py)
        Route("/m/{meeting_id:int}/minutes.docx", routes_minutes.minutes_file),
        WebSocketRoute("/ws/{meeting_id:int}/{audience}", ws.LiveSocketApp()),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
