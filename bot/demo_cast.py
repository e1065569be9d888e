"""The demo's people and group chats, shared by its scenarios."""

from __future__ import annotations

from bot.scripted import Group, Person

ADMIN = Person(900001, "街道管理员", "street_admin")
WORKER = Person(900101, "王网格员", "wang_grid")
COMMUNITY_STAFF = Person(900201, "李社区干事", "li_comm")
RIDER = Person(900301, "骑手小刘", "liu_rider")
RESIDENT = Person(900401, "张阿姨")
NEIGHBOUR = Person(900402, "李大爷", "li_daye")
VOLUNTEER_A = Person(900501, "刘阿姨", "liu_ayi")
VOLUNTEER_B = Person(900502, "陈大爷", "chen_daye")
GRID_HEAD = Person(900111, "陈网格长", "chen_head")
INSPECTOR = Person(900911, "城管队员老周", "zhou_cg")
STEWARD = Person(900921, "物业管家小孙", "sun_guanjia")
STREET_GROUP = Group(-1001000000001, "青禾街道指挥中心")
COMMUNITY_GROUP = Group(-1001000000011, "杏林社区工作群")
GRID_GROUP = Group(-1001000000112, "杏林社区第二网格")
DEPARTMENT_GROUP = Group(-1001000000901, "青禾城管执法中队工作群")
PROPERTY_GROUP = Group(-1001000000951, "杏林物业服务中心工作群")
