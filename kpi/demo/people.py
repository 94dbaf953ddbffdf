"""The people of the history: more of the customers' business contacts, who raised tickets and
answered surveys over the eighteen months (two more in each department of a key customer, one
more at each other customer — the contact list still fits one page), and the engineers who
resolved the tickets (accounts without a role: they sign in to the ITSM tool, not here)."""

from __future__ import annotations

from itsm.core.choices import Language, OrganisationKind
from itsm.core.models import Contact, Department, User

from .common import History

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("杨", "yang"), ("赵", "zhao"), ("吴", "wu"),
    ("周", "zhou"), ("孙", "sun"), ("郭", "guo"), ("何", "he"), ("高", "gao"), ("罗", "luo"), ("梁", "liang"),
    ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"),
]  # fmt: skip
GIVEN = [
    ("志明", "zhiming"), ("晓燕", "xiaoyan"), ("海涛", "haitao"), ("丽娟", "lijuan"), ("建华", "jianhua"),
    ("秀英", "xiuying"), ("文博", "wenbo"), ("静怡", "jingyi"), ("国栋", "guodong"), ("雪梅", "xuemei"),
    ("俊杰", "junjie"), ("玉兰", "yulan"), ("宏宇", "hongyu"), ("婷婷", "tingting"), ("立新", "lixin"),
    ("春燕", "chunyan"), ("永刚", "yonggang"), ("慧敏", "huimin"), ("振华", "zhenhua"), ("佳琪", "jiaqi"),
]  # fmt: skip
# A contact who reads English (the bank's retail arm has some).
ENGLISH = {("hx-bank", "零售业务部"): ["Peter Ho"]}
# More contacts in each department of a key customer; at another customer, in its first department.
PER_KEY_DEPARTMENT, PER_CUSTOMER = 2, 1

# username, name, email: the engineers whose tickets are called back.
ENGINEERS = [
    ("eng-lin", "林海峰", "lin.haifeng@example.com"),
    ("eng-guo", "郭晓东", "guo.xiaodong@example.com"),
    ("eng-he", "何俊", "he.jun@example.com"),
    ("eng-song", "宋雨", "song.yu@example.com"),
]


def load_people(history: History) -> int:
    """Create the contacts and engineers; fill ``history.contacts`` (every customer contact)
    and ``history.engineers``. Returns the rows created."""
    created = 0
    departments = list(
        Department.objects.filter(organisation__kind=OrganisationKind.CUSTOMER)
        .select_related("organisation")
        .order_by("organisation__code", "pk")
    )
    existing = set(Contact.objects.values_list("email", flat=True))
    rows = []
    number = 0
    seen: set[int] = set()
    for department in departments:
        organisation = department.organisation
        domain = f"{organisation.code}.example"
        english = ENGLISH.get((organisation.code, department.name), [])
        first = organisation.pk not in seen
        seen.add(organisation.pk)
        more = PER_KEY_DEPARTMENT if organisation.is_key_customer else PER_CUSTOMER if first else 0
        for index in range(more):
            number += 1
            if index < len(english):
                name = english[index]
                email = name.lower().replace(" ", ".") + f"@{domain}"
                language = Language.EN
            else:
                surname, surname_py = SURNAMES[(number * 7) % len(SURNAMES)]
                given, given_py = GIVEN[(number * 3) % len(GIVEN)]
                name, email, language = surname + given, f"{given_py}.{surname_py}@{domain}", Language.ZH_HANS
            if email in existing:
                continue
            existing.add(email)
            rows.append(
                Contact(
                    organisation=organisation,
                    department=department,
                    name=name,
                    email=email,
                    phone=f"1391{number:07d}",
                    preferred_language=language,
                )
            )
    Contact.objects.bulk_create(rows)
    created += len(rows)
    for username, name, email in ENGINEERS:
        user, new = User.objects.get_or_create(
            username=username, defaults={"first_name": name, "email": email, "preferred_language": Language.ZH_HANS}
        )
        if new:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            created += 1
        history.engineers.append(user)
    history.contacts = list(
        Contact.objects.filter(organisation__kind=OrganisationKind.CUSTOMER, is_active=True)
        .exclude(email="")
        .select_related("organisation", "department")
        .order_by("pk")
    )
    return created
