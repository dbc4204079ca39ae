"""One module per page family (account, audit, cards, deputy, meetings, people, questions,
roster, screen, staff, the follow-up's and the record's pages, …). Only the route table
(``server.web.route_table``) imports them.
"""
