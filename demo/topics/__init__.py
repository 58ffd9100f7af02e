"""Data banks for the demo content (``demo.content`` holds the logic).

Mostly topics: what citizens write about, per category.

Every topic is a dict made by ``T``:

* ``cat``   category code; ``tags`` which campaigns it suits (see ``content.CAMPAIGNS``):
  ``local`` a concrete local problem (may be complained about), ``policy`` a wider policy idea,
  ``road`` road safety, ``oldcomm`` old residential compounds, ``elder`` elderly care,
  ``biz`` business environment, ``rural`` rural revitalisation;
* ``s``     the subject as a short noun phrase ("老旧小区加装电梯");
* ``t``     title patterns; ``p`` problem sentences; ``c`` cause sentences;
* ``a``     proposals as verb phrases without "建议" and without final punctuation;
* ``q``     a question (consultations), ``d`` what was fixed (thanks), ``h`` a personal plight (requests for help);
* ``dept``  the department that usually handles it (a suffix after the place name), if not the category's default.

Placeholders such as ``{community}`` or ``{road}`` are filled from a fictional locale, ``{n:3-8}`` with a number.
One module per category; ``TOPICS`` joins them. The ministry draft is in ``demo.draft``; the fictional places,
the stock phrases of citizens' messages, names for citizen accounts and the phrases of official replies are in
``demo.phrases``.
All text is written for this project; places, schools and communities are fictional.
"""
from demo.topics.agriculture import AGRICULTURE
from demo.topics.commerce import COMMERCE
from demo.topics.education import EDUCATION
from demo.topics.environment import ENVIRONMENT
from demo.topics.health import HEALTH
from demo.topics.labour import LABOUR
from demo.topics.legal import LEGAL
from demo.topics.safety import SAFETY
from demo.topics.services import SERVICES
from demo.topics.tech import TECH
from demo.topics.transport import TRANSPORT
from demo.topics.urban import URBAN

TOPICS = URBAN + TRANSPORT + EDUCATION + LABOUR + HEALTH + ENVIRONMENT + COMMERCE + AGRICULTURE + SERVICES + \
    SAFETY + TECH + LEGAL
