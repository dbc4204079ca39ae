"""One module per page family: account, audit, cards, deputy, meetings, people, questions,
roster, screen, staff. Only ``server.web.app`` imports them (its route table).
"""
