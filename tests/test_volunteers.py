"""Volunteer registration: own contact only, real name, community, optional team, staff approval."""

from __future__ import annotations

from bot.demo_cast import COMMUNITY_GROUP, COMMUNITY_STAFF, RIDER
from bot.scripted import Person, Script
from tests.helpers import alerts, scalar, sent_to, texts

NEW = Person(950001, "小周", "xiaozhou")


async def contact(s: Script, who: Person, user_id: int | None, phone: str = "13812345678") -> None:
    c: dict[str, object] = {"phone_number": phone, "first_name": who.first_name}
    if user_id is not None:
        c["user_id"] = user_id
    await s.feed({"message": s.message_dict(who, None, None, contact=c)})


async def test_registration_and_approval(district: Script) -> None:
    s = district
    await s.say(COMMUNITY_STAFF, "/team 杏林红马甲服务队", group=COMMUNITY_GROUP)
    await s.say(NEW, "/start")
    await s.say(NEW, "🤝 志愿服务")
    await s.press(NEW, "注册志愿者")
    ask = sent_to(s.session, NEW.id)[-1]
    assert ask.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    await contact(s, NEW, RIDER.id)  # someone else's card is refused
    assert "本人" in texts(sent_to(s.session, NEW.id))[-1]
    await contact(s, NEW, NEW.id)
    await s.say(NEW, "周 123")
    assert "真实姓名" in texts(sent_to(s.session, NEW.id))[-1]
    await s.say(NEW, "周晓梅")
    await s.press(NEW, "杏林社区")
    await s.press(NEW, "杏林红马甲服务队")
    assert await scalar(s.app, "select state from volunteers") == "pending"
    review = texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    assert "周晓梅" in review and "138****5678" in review and "13812345678" not in review
    await s.press(RIDER, "通过", group=COMMUNITY_GROUP)  # not staff
    assert "只有本社区" in alerts(s.session)[-1]
    await s.press(COMMUNITY_STAFF, "通过", group=COMMUNITY_GROUP)
    assert await scalar(s.app, "select state from volunteers") == "active"
    assert any("已通过审核" in t for t in texts(sent_to(s.session, NEW.id)))
    await s.press(COMMUNITY_STAFF, "通过", group=COMMUNITY_GROUP)  # once only
    assert "已经处理" in alerts(s.session)[-1]
    await s.say(COMMUNITY_STAFF, "/volunteers", group=COMMUNITY_GROUP)
    assert "周晓梅" in texts(sent_to(s.session, COMMUNITY_GROUP.id))[-1]
    await s.say(COMMUNITY_STAFF, "/deactivate @xiaozhou", group=COMMUNITY_GROUP)
    assert await scalar(s.app, "select state from volunteers") == "inactive"
