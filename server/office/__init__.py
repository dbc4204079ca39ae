"""The office's work before and after the hall, with no HTTP in it.

Accounts, bodies and rosters (``accounts``, ``bodies``, ``imports``, ``sheets``,
``exports``), preparing meetings (``meeting_kinds``, ``meeting_forms``,
``meetings_admin``), questions (``questions_admin``, ``questions_own``, ``final_list``),
invitation cards (``invitations``, ``card_qr``, ``card_files``), screen pairing, the
audit trail (``audit_text``, ``audit_trail``), the demo, and moving a meeting to another
installation (``move_format``, ``move_export``, ``move_map``, ``move_ids``,
``move_import``), follow-up after the meeting (``followup_rules``, ``followup``,
``followup_reads``). Functions take an open connection and never commit: the caller decides
the transaction. Heavy work (QR codes, DOCX, XLSX, reading an upload) runs in
``workshop``'s processes, never on the event loop. The web face and the commands may
import it; it imports ``storage``, ``base``, ``screens`` and ``live``, never ``room``.
"""
