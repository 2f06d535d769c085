//! One line of documentation per route: (method, path, summary). The
//! OpenAPI description takes every route from the route table itself, so
//! none can be missing from it; `tests/openapi.rs` fails when a route has
//! no line here (add one) or a line names no route (remove it), so none is
//! served undescribed either.

pub const SUMMARIES: &[(&str, &str, &str)] = &[
    // Kiosks (signed requests).
    (
        "POST",
        "/api/v1/kiosk/enrol",
        "Enrol a kiosk with its one-time secret; registers its Ed25519 public key",
    ),
    (
        "POST",
        "/api/v1/kiosk/heartbeat",
        "A kiosk's heartbeat: device states, backlog, print queue, staff alert; answers moves and settings",
    ),
    (
        "POST",
        "/api/v1/kiosk/events",
        "Push journaled kiosk events (check-ins, photos, prints); each applied once by event id",
    ),
    (
        "GET",
        "/api/v1/kiosk/changes",
        "Booking changes of the kiosk's campus since a cursor (the offline cache)",
    ),
    (
        "POST",
        "/api/v1/kiosk/lookup",
        "Find a person's bookings by ID card, code or ID number + mobile (K1-K5)",
    ),
    (
        "POST",
        "/api/v1/kiosk/booking/options",
        "Packages, items and free slots for self-service booking (K17)",
    ),
    (
        "POST",
        "/api/v1/kiosk/booking/book",
        "Book an exam at the kiosk (K17)",
    ),
    (
        "POST",
        "/api/v1/kiosk/booking/rebook",
        "Move a booking to another slot (K17)",
    ),
    (
        "POST",
        "/api/v1/kiosk/booking/cancel",
        "Cancel a booking (K17)",
    ),
    (
        "POST",
        "/api/v1/kiosk/reports",
        "List the card holder's published reports",
    ),
    (
        "POST",
        "/api/v1/kiosk/reports/pdf",
        "Fetch one of the card holder's report PDFs to print",
    ),
    (
        "GET",
        "/api/v1/kiosk/faces",
        "Today's face templates of the people booked at the kiosk's campus (face check-in)",
    ),
    // Staff sign-in and account.
    ("GET", "/login", "The sign-in page"),
    (
        "POST",
        "/login",
        "Sign in with user name, password and (after a failure) the captcha",
    ),
    (
        "GET",
        "/login/captcha",
        "The sign-in form's captcha picture",
    ),
    (
        "GET",
        "/login/code",
        "The second-factor (TOTP) step of sign-in",
    ),
    ("POST", "/login/code", "Submit the second-factor code"),
    ("POST", "/logout", "Sign out (ends the session)"),
    ("GET", "/password", "The password change page"),
    (
        "POST",
        "/password",
        "Change the own password (policy checked, no reuse)",
    ),
    ("GET", "/account/totp", "The authenticator enrolment page"),
    (
        "POST",
        "/account/totp",
        "Confirm the authenticator enrolment with a code",
    ),
    ("GET", "/account/totp/qr", "The enrolment QR code picture"),
    (
        "GET",
        "/account/notice",
        "The last sign-in notice (time, address, failures since)",
    ),
    // Staff pages.
    (
        "GET",
        "/",
        "The landing page: sends each role to its first page",
    ),
    (
        "GET",
        "/registrations",
        "Today's kiosk check-ins, the kiosk fleet and waiting documents (masked)",
    ),
    (
        "GET",
        "/registrations/stream",
        "Live stream of check-ins (server-sent events, rendered rows)",
    ),
    (
        "POST",
        "/pickups/handed-over",
        "Mark documents waiting in a kiosk tray as handed over",
    ),
    (
        "POST",
        "/kiosks/move-printing",
        "Move a kiosk's waiting print jobs to another kiosk",
    ),
    (
        "GET",
        "/static/{name}",
        "The staff pages' embedded static files",
    ),
    (
        "GET",
        "/registrations.csv",
        "Today's check-ins as CSV (export limits apply, audited)",
    ),
    ("GET", "/privacy", "The public privacy notice"),
    (
        "GET",
        "/desk/visits/{id}/privacy",
        "The person's-rights page for a visit's person",
    ),
    ("GET", "/desk", "The front-desk page"),
    ("GET", "/groups", "The group-desk page"),
    ("GET", "/admin", "The maintenance page"),
    ("GET", "/admin/accounts", "The staff accounts page"),
    (
        "GET",
        "/desk/visits/{id}/print",
        "A visit's printable documents (guide sheet, fee list)",
    ),
    (
        "GET",
        "/audit",
        "The auditor's page: the audit trail and its chain check",
    ),
    (
        "POST",
        "/audit/verify",
        "Recompute the audit trail's hash chain now",
    ),
    (
        "GET",
        "/audit/export.csv",
        "The audit trail as CSV (masked)",
    ),
    // Front desk.
    (
        "GET",
        "/api/desk/catalogue",
        "The dictionaries: items, packages, campuses",
    ),
    (
        "GET",
        "/api/desk/slots",
        "A day's slots with their capacity and bookings",
    ),
    (
        "GET",
        "/api/desk/search",
        "Search patients by name, pinyin initials, ID number, mobile or code",
    ),
    (
        "POST",
        "/api/desk/plan",
        "Price a plan (package, added and removed items) for a person",
    ),
    (
        "POST",
        "/api/desk/visits",
        "Book a visit or register a walk-in",
    ),
    (
        "GET",
        "/api/desk/visits/{id}",
        "A visit with its items (audited read)",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/register",
        "Register (开单登记) a booked visit",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/rebook",
        "Move a visit to another slot",
    ),
    ("POST", "/api/desk/visits/{id}/cancel", "Cancel a visit"),
    (
        "POST",
        "/api/desk/visits/{id}/items",
        "Add items to a visit",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/items/{code}",
        "Change an item: remove, refund, waive, make up, defer, restore",
    ),
    (
        "GET",
        "/api/desk/visits/{id}/items/{code}/signature",
        "The patient's signature on a waiver",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/pay",
        "Take payment of a visit's unpaid items at the desk",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/platform-order",
        "The payment platform's order (QR) for a visit's unpaid items, at the desk",
    ),
    (
        "GET",
        "/api/desk/payments/{no}",
        "A desk platform order's state",
    ),
    (
        "GET",
        "/api/desk/payments/{no}/qr.png",
        "A desk platform order's QR code for the patient to scan",
    ),
    (
        "POST",
        "/api/desk/payments/{no}/cancel",
        "Close a desk platform order the patient will not pay",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/identity",
        "Correct the person's name or mobile, with a reason",
    ),
    (
        "GET",
        "/api/desk/visits/{id}/photo",
        "The check-in photo (audited read)",
    ),
    (
        "GET",
        "/api/desk/operations",
        "The caller's own operations of today",
    ),
    (
        "GET",
        "/api/desk/visits/{id}/report",
        "A visit's published report and its prints",
    ),
    (
        "PUT",
        "/api/desk/visits/{id}/report",
        "Publish a visit's report PDF (withdraws an earlier one)",
    ),
    (
        "DELETE",
        "/api/desk/visits/{id}/report",
        "Withdraw a visit's report, with a reason",
    ),
    (
        "GET",
        "/api/desk/visits/{id}/report/pdf",
        "Preview a visit's report PDF (audited read)",
    ),
    (
        "GET",
        "/api/desk/visits/{id}/privacy",
        "Everything held about the visit's person",
    ),
    (
        "GET",
        "/api/desk/visits/{id}/privacy/export",
        "Export everything held about the person, for them",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/privacy/consents",
        "Record the person's consent answers",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/privacy/withdraw",
        "Withdraw a consent (its processing stops at once)",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/privacy/erase",
        "Erase what retention allows (anonymise)",
    ),
    // Group desk.
    (
        "GET",
        "/api/group/members/search",
        "Search among group members",
    ),
    ("GET", "/api/group/companies", "Companies"),
    ("POST", "/api/group/companies", "Create a company"),
    (
        "GET",
        "/api/group/companies/{id}/groups",
        "A company's groups",
    ),
    (
        "POST",
        "/api/group/companies/{id}/groups",
        "Create or change a company's group",
    ),
    (
        "POST",
        "/api/group/companies/{id}/roster",
        "Import a roster (.xlsx, .xls, .csv)",
    ),
    (
        "GET",
        "/api/group/progress/{token}",
        "Progress of a roster import",
    ),
    (
        "GET",
        "/api/group/companies/{id}/imports/{import}/errors.csv",
        "A roster import's error report as CSV",
    ),
    (
        "GET",
        "/api/group/companies/{id}/members",
        "A company's members (masked)",
    ),
    (
        "GET",
        "/api/group/companies/{id}/members.csv",
        "A company's members as CSV (export limits apply)",
    ),
    (
        "POST",
        "/api/group/companies/{id}/regroup",
        "Regroup members by the groups' rules",
    ),
    (
        "POST",
        "/api/group/companies/{id}/book",
        "Book a company's (or a group's) members",
    ),
    (
        "POST",
        "/api/group/companies/{id}/items",
        "Add or remove items for a group",
    ),
    (
        "POST",
        "/api/group/companies/{id}/ban",
        "Ban (禁检) or restore members",
    ),
    (
        "POST",
        "/api/group/companies/{id}/discount",
        "Set a group's discount",
    ),
    // Administration.
    ("GET", "/api/admin/accounts", "Staff accounts and roles"),
    (
        "POST",
        "/api/admin/accounts",
        "Create a staff account (one-time password shown once)",
    ),
    ("GET", "/api/admin/accounts/search", "Search staff accounts"),
    (
        "POST",
        "/api/admin/accounts/state",
        "Enable or disable accounts in bulk",
    ),
    (
        "POST",
        "/api/admin/accounts/{name}/limits",
        "Set an account's validity period",
    ),
    (
        "POST",
        "/api/admin/accounts/{name}/campus",
        "Binds an account to one campus (its desk, queue pages and figures are that campus's; another campus's visit, room or figures refused) or, with null, to every campus (E14)",
    ),
    (
        "POST",
        "/api/admin/accounts/{name}/unlock",
        "Unlock a locked account",
    ),
    (
        "POST",
        "/api/admin/accounts/{name}/reset-password",
        "Reset an account's password (one-time)",
    ),
    (
        "POST",
        "/api/admin/accounts/{name}/reset-totp",
        "Reset an account's authenticator",
    ),
    (
        "GET",
        "/api/admin/accounts/report/stopped",
        "Report: accounts disabled, expired or locked",
    ),
    (
        "GET",
        "/api/admin/accounts/report/rights",
        "Report: every account's role and rights",
    ),
    ("GET", "/api/admin/logins", "Sign-in history"),
    (
        "POST",
        "/api/admin/items/{code}/price",
        "Set an item's price",
    ),
    (
        "POST",
        "/api/admin/packages/{code}",
        "Create or change a package",
    ),
    (
        "GET",
        "/api/admin/api-clients",
        "Outside systems registered as API clients (no secrets)",
    ),
    (
        "POST",
        "/api/admin/api-clients",
        "Register an API client: scopes, identity level, allowed sources, rate; the secret is shown once",
    ),
    (
        "POST",
        "/api/admin/api-clients/{id}/revoke",
        "Revoke an API client; its tokens stop at once",
    ),
    // Payments through the unified payment platform (K16, I4).
    (
        "POST",
        "/api/v1/kiosk/payments",
        "A kiosk asks for the platform order (QR code) of the chosen bookings' unpaid items",
    ),
    (
        "POST",
        "/api/v1/kiosk/payments/state",
        "A kiosk asks whether its order is paid, closed or still waiting",
    ),
    (
        "POST",
        "/api/v1/kiosk/payments/cancel",
        "A kiosk closes its unpaid order (the patient left the payment screen)",
    ),
    (
        "POST",
        "/pay/notify",
        "The payment platform's signed notification of a payment or refund",
    ),
    (
        "GET",
        "/payments",
        "The finance page: orders, refunds and the daily bill's reconciliations",
    ),
    (
        "GET",
        "/api/payments/reconciliations",
        "The daily bill's reconciliation runs",
    ),
    (
        "GET",
        "/api/payments/reconciliations/{id}",
        "One reconciliation run with every difference and its cause",
    ),
    (
        "POST",
        "/api/payments/reconciliations",
        "Fetch a day's bill from the platform and reconcile it now",
    ),
    // Each campus's money apart (E14).
    (
        "GET",
        "/figures",
        "The day figures page: each campus's visits, charges and refunds by method, the group's total",
    ),
    (
        "GET",
        "/api/figures",
        "A day's or a period's figures per campus and for the group (sums only; ?day=YYYY-MM-DD, default today, or ?from=&to=, at most 366 days); a campus-bound account gets its campus only",
    ),
    (
        "GET",
        "/api/figures.csv",
        "The same figures as CSV for Excel (UTF-8 with its byte-order mark, amounts in yuan)",
    ),
    // The queue (Q1–Q6).
    (
        "GET",
        "/guide",
        "The guide desk (导诊台): every room's queue live, a person's places, moves, room states, evacuation",
    ),
    (
        "GET",
        "/station",
        "The doctor station (医生站): one room's current, queue, history and unassigned people",
    ),
    (
        "GET",
        "/screen/{token}",
        "A room's screen for a TV (signed link, no login): who is called, the queue, next-room notices, voice",
    ),
    (
        "GET",
        "/api/screen/{token}",
        "A room screen's state: masked names, the look, the room's announcements after a number",
    ),
    (
        "GET",
        "/api/screen/{token}/stream",
        "A room screen's live stream: `changed` when the campus's queue moves",
    ),
    (
        "GET",
        "/api/screen/{token}/voice/{seq}",
        "An announcement's Mandarin sentence as WAV (espeak-ng, cached per sentence)",
    ),
    (
        "GET",
        "/m/{token}",
        "The patient's phone page (signed link from the guide sheet's QR, no login)",
    ),
    (
        "GET",
        "/api/m/{token}",
        "The phone page's state: masked name, where to go, places, pending and done rooms, what may be rated",
    ),
    (
        "GET",
        "/api/m/{token}/stream",
        "The phone page's live stream",
    ),
    (
        "POST",
        "/api/m/{token}/rating",
        "Rate the doctor of a room done today: 1–5 stars and a remark, once per room",
    ),
    (
        "GET",
        "/api/queue/board",
        "The campus's rooms: state, desks, serving, waiting (masked), done, mean wait; long waits; unroutable",
    ),
    (
        "GET",
        "/api/queue/stream",
        "The queue pages' live stream: `changed` when the campus's queue moves",
    ),
    (
        "GET",
        "/api/queue/find",
        "A visit by exam number, booking code or id (the guide desk's scan)",
    ),
    (
        "GET",
        "/api/queue/visits/{id}",
        "A visit's day in the queue: where, places and numbers held, pending and done rooms, entries",
    ),
    (
        "GET",
        "/api/queue/rooms/{room}",
        "One room for the doctor station: serving, waiting and today's history",
    ),
    (
        "POST",
        "/api/queue/rooms/{room}/call-next",
        "Call the next person into the room (its queue, its numbers, or someone waiting elsewhere)",
    ),
    (
        "POST",
        "/api/queue/rooms/{room}/call/{id}",
        "Call a named person into the room",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/recall",
        "Call the person called again (the announcement repeats)",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/no-show",
        "The person called did not come: back into the queue a few places behind",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/finish",
        "The room is done with the person: routed to their next room",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/send",
        "Send a waiting person to a named room (指定科室)",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/move",
        "Move a waiting person to a place in their queue (0: 插队)",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/reroute",
        "Route a waiting person again, elsewhere if better (a long wait)",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/priority",
        "Set a person's priority level and VIP",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/leave",
        "Take a person out of today's queue (改日检)",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/join",
        "Put a registered visit into today's queue now",
    ),
    (
        "POST",
        "/api/queue/visits/{id}/phone-link",
        "The visit's phone page link (signed, 36 hours)",
    ),
    (
        "POST",
        "/api/queue/rooms/{room}/state",
        "Open, lock or close a room (closing routes its queue elsewhere)",
    ),
    (
        "POST",
        "/api/queue/rooms/{room}/evacuate",
        "Evacuate a room: everyone waiting is routed elsewhere, in order",
    ),
    (
        "POST",
        "/api/queue/rooms/{room}/screen-link",
        "A room screen's link (signed, a year)",
    ),
    (
        "GET",
        "/api/queue/settings",
        "The campus's queue rules, rooms (desks, minutes, pre-queue) and screen look",
    ),
    (
        "POST",
        "/api/queue/settings",
        "Save the campus's queue rules, rooms and screen look (today's queue is replayed with them)",
    ),
    (
        "GET",
        "/desk/visits/{id}/phone-qr.png",
        "The printed guide sheet's QR of the phone page (PNG; 404 without public_url)",
    ),
    // Department results (E6).
    (
        "GET",
        "/dept",
        "The department page (分科录入): scan, enter this room's items, summary, quality checks",
    ),
    (
        "GET",
        "/api/results/find",
        "A visit as a room sees it, by a scanned exam number, tube label or booking code (read audited)",
    ),
    (
        "GET",
        "/api/results/visits/{id}",
        "A visit as a room sees it: items with templates and ranges, entries, summaries, earlier years (read audited)",
    ),
    (
        "POST",
        "/api/results/visits/{id}/departments/{dept}/preview",
        "Judge a department's entries: flags, the summary, conclusions, quality issues (nothing saved)",
    ),
    (
        "POST",
        "/api/results/visits/{id}/departments/{dept}",
        "Save a department's entries and summary, raising the major abnormal results they hold",
    ),
    // The chief examination and generated reports (E8, E9).
    ("GET", "/chief", "The chief examination page (总检 / 总审)"),
    (
        "GET",
        "/api/chief/worklist",
        "My reports, the pool not yet given out, and (reviewers) locked reports to review; enters ready visits",
    ),
    (
        "POST",
        "/api/chief/assign",
        "Gives the pool out to the chief physicians: even counts, harder grades to senior ones (reviewers)",
    ),
    (
        "GET",
        "/api/chief/conclusions",
        "The conclusions dictionary searched by name or pinyin initials",
    ),
    (
        "GET",
        "/api/chief/reports/{id}",
        "A visit's report: conclusions, departments' summaries, results as they print, major results, returns",
    ),
    (
        "POST",
        "/api/chief/reports/{id}",
        "Save (conclusions), lock, unlock, return with a reason, or approve (generates and publishes the PDF)",
    ),
    (
        "POST",
        "/api/chief/reports/{id}/edits",
        "One edit of a report's conclusions (move, merge, add from the dictionary, write, remove, advice)",
    ),
    (
        "GET",
        "/api/chief/reports/{id}/preview.pdf",
        "The report's PDF as it would print now (before review)",
    ),
    (
        "GET",
        "/api/chief/reports/{id}/documents/{n}",
        "An image report (ECG, ultrasound, function test) a system sent embedded with its result",
    ),
    (
        "GET",
        "/api/chief/stats",
        "Reports per state; reviewers' returns per chief physician and reason",
    ),
    (
        "POST",
        "/api/chief/physicians/{login}",
        "Sets an account's chief-physician level (1-3), review right and signature image (PNG)",
    ),
    (
        "GET",
        "/api/group/companies/{id}/pickup-slip.pdf",
        "The company's batch pickup slip: its members' published reports with a line to sign each",
    ),
    (
        "GET",
        "/api/desk/reports/companies",
        "Companies whose members have published reports, with how many (the desk's batch panel)",
    ),
    (
        "GET",
        "/api/desk/reports/batch.pdf",
        "Batch printing: the published reports of a company (company=) or an exam date (date=) in one PDF",
    ),
    (
        "POST",
        "/api/desk/visits/{id}/report/handover",
        "Records a report handed to the person, a proxy (name, ID tail) or the company, signed, or posted",
    ),
    (
        "GET",
        "/api/desk/visits/{id}/report/handovers",
        "A visit's report hand-overs",
    ),
    (
        "GET",
        "/api/group/companies/{id}/book.pdf",
        "The company's group report book (团检报告) from its members' published reports",
    ),
    (
        "POST",
        "/api/results/visits/{id}/extra-items",
        "Adds extra items in the room (加项) and makes the payment platform's order for the unpaid items",
    ),
    (
        "GET",
        "/api/results/payments/{no}",
        "The state of an order the doctor made in the room",
    ),
    (
        "GET",
        "/api/results/payments/{no}/qr.png",
        "That order's QR code for the room's screen",
    ),
    (
        "POST",
        "/api/results/visits/{id}/history",
        "A visit's medical history (past, surgical, family, present, allergies, medicines, smoking, drinking)",
    ),
    (
        "POST",
        "/api/results/visits/{id}/departments/{dept}/questionnaire",
        "A department's questionnaire answers for a visit; answers the lines the report prints",
    ),
    // Specimens (E5).
    (
        "GET",
        "/specimens",
        "The specimens page (检验采集): a visit's tubes, draw, hand-over, receipt, refusal, draw again",
    ),
    (
        "GET",
        "/api/specimens/find",
        "A visit's tubes (one per label) with their state and events, by a scanned guide sheet or tube",
    ),
    (
        "GET",
        "/api/specimens/problems",
        "Tubes drawn and not at the laboratory after an hour, and tubes to draw again",
    ),
    (
        "POST",
        "/api/specimens/{barcode}/events",
        "A tube's event: draw (with notes), skip, send, receive, reject (with the reason), result, redraw",
    ),
    // Major abnormal results (E7).
    (
        "GET",
        "/abnormal",
        "The major-abnormal-results board (重要异常结果)",
    ),
    (
        "GET",
        "/api/abnormal",
        "Open cases with their timers (all=true: the last 30 days too) and statistics",
    ),
    (
        "GET",
        "/api/abnormal/{id}",
        "A case: value, person (masked name, mobile to phone), every step (read audited)",
    ),
    (
        "POST",
        "/api/abnormal/{id}/steps",
        "Review, notify (phone, SMS, in person) or follow up a case",
    ),
    (
        "POST",
        "/api/abnormal/report",
        "Report a major abnormal result by hand (exam number, item, finding, category)",
    ),
    // Emergency mode (E15).
    (
        "GET",
        "/emergency",
        "The emergency page: the centre's state, eligibility, the switch and past episodes' reports",
    ),
    (
        "GET",
        "/emergency/episodes/{id}/report.csv",
        "An emergency episode's reconciliation report as CSV (audited as an export)",
    ),
    (
        "GET",
        "/api/emergency",
        "Emergency mode's state: phase, eligibility with its reasons, the open episode",
    ),
    (
        "POST",
        "/api/emergency/on",
        "Switch emergency mode on (eligible, or an administrator's override reason)",
    ),
    (
        "POST",
        "/api/emergency/off",
        "Switch emergency mode off: the queue drains, then the episode closes",
    ),
    (
        "GET",
        "/api/emergency/episodes/{id}/report",
        "An emergency episode's reconciliation report: entries, messages, totals by method",
    ),
    // Hospital interfaces (HIS, LIS, PACS and the others).
    (
        "GET",
        "/interfaces",
        "The interfaces page: each counterpart's queue, failures and dead letters",
    ),
    (
        "GET",
        "/interfaces/visits/{id}",
        "A visit's items: ordered versus received, per counterpart",
    ),
    (
        "POST",
        "/sms/reports/{token}",
        "The SMS platform's pushed delivery reports, at the configured secret path (unknown path: 404)",
    ),
    (
        "GET",
        "/sms",
        "The SMS page: per kind sent, delivered, failed, waiting, dropped; the last problems; numbers masked",
    ),
    (
        "GET",
        "/api/sms",
        "SMS counts per kind and state, the latest problems and messages (numbers masked, no names)",
    ),
    (
        "POST",
        "/api/sms/visits/{id}/notice",
        "Send a visit's person an abnormal-result or critical-value SMS by hand (once per reference; audited)",
    ),
    (
        "GET",
        "/api/interfaces",
        "Each counterpart's counts: sent, acknowledged, failed, pending, last error",
    ),
    (
        "GET",
        "/api/interfaces/{counterpart}/messages",
        "A counterpart's messages (failing and dead first)",
    ),
    (
        "POST",
        "/api/interfaces/messages/{id}/retry",
        "Retry a dead letter (audited)",
    ),
    (
        "GET",
        "/api/interfaces/visits/{id}",
        "A visit's items as ordered and received, and its major abnormal results (masked, audited)",
    ),
    (
        "GET",
        "/api/interfaces/abnormal",
        "Open major abnormal results (category A or B), with the minutes since raised (audited)",
    ),
    (
        "GET",
        "/api/interfaces/his/prices",
        "HIS's prices: the last sync, the change log, unmapped HIS codes and our items HIS lacks",
    ),
    (
        "POST",
        "/api/interfaces/his/prices/sync",
        "Fetch HIS's price list now and apply changed prices from their effective time (audited)",
    ),
    (
        "POST",
        "/api/interfaces/visits/{id}/items/{code}/refetch",
        "Ask the counterpart again for an item's result",
    ),
    (
        "POST",
        "/api/interfaces/visits/{id}/items/{code}/transfer",
        "Record an item's result as transferred by hand",
    ),
    // Audit.
    (
        "GET",
        "/api/audit/operations",
        "Search the audit trail by time, ID number, operator, category",
    ),
    // Outside systems: FHIR R4 (read only).
    ("GET", "/fhir/metadata", "The FHIR CapabilityStatement"),
    (
        "POST",
        "/fhir/token",
        "OAuth 2.0 client credentials: a bearer token for the FHIR API",
    ),
    (
        "GET",
        "/fhir/Patient",
        "Search people by _id or identifier (ID number)",
    ),
    (
        "GET",
        "/fhir/Patient/{id}",
        "Read a person (identity masked unless the client may see it)",
    ),
    (
        "GET",
        "/fhir/Appointment",
        "Search bookings by patient, identifier, date, status",
    ),
    ("GET", "/fhir/Appointment/{id}", "Read a booking"),
    (
        "GET",
        "/fhir/ServiceRequest",
        "Search booked and paid exam items by patient, requisition, occurrence, status, code",
    ),
    (
        "GET",
        "/fhir/ServiceRequest/{id}",
        "Read an exam item of a visit",
    ),
    (
        "GET",
        "/fhir/Observation",
        "Search results (none are recorded by this service yet: an empty searchset)",
    ),
    (
        "GET",
        "/fhir/Observation/{id}",
        "Read a result (none are recorded yet: 404)",
    ),
    (
        "GET",
        "/fhir/DiagnosticReport",
        "Search published exam reports by patient, date, status",
    ),
    (
        "GET",
        "/fhir/DiagnosticReport/{id}",
        "Read a published exam report",
    ),
    (
        "GET",
        "/fhir/Binary/{id}",
        "A report's PDF (Binary JSON, or the PDF with Accept: application/pdf)",
    ),
    // This description.
    ("GET", "/api/openapi.json", "This OpenAPI 3.1 description"),
    ("GET", "/api/docs", "The browsable API documentation"),
    (
        "GET",
        "/api/docs/{name}",
        "The documentation page's script and style",
    ),
    // Operations.
    ("GET", "/healthz", "Liveness and store check"),
    (
        "GET",
        "/metrics",
        "Prometheus metrics (allowed source addresses only)",
    ),
];

pub fn summary(method: &str, path: &str) -> Option<&'static str> {
    SUMMARIES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, s)| *s)
}
