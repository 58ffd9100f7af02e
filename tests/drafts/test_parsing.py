"""Reading drafts into their structure (issue 18): laws with 编, 分编, 章, 节 and 条, articles with 款 and 项, plan
outlines with 篇, 章, 节 and 一、/（一） headings, Markdown and .docx input."""
import io

import docx
import pytest

from drafts.parsing import DraftUnreadable, chinese_number, parse_file, parse_text

LAW = """中华人民共和国示例法（草案）
第一编　总则
第一章　基本规定
第一条　为了保护民事主体的合法权益，制定本法。
第二条　民法调整平等主体之间的人身关系和财产关系。
第二编　物权
第一分编　通则
第一章　一般规定
第一节　不动产登记
第二百零九条　不动产物权的设立，经依法登记，发生效力。
依法属于国家所有的自然资源，所有权可以不登记。
第二百一十条　当事人申请登记，应当提供下列材料：
（一）权属证明；
（二）不动产界址、面积等必要材料。
第二节　动产交付
第二百二十四条【交付】动产物权的设立和转让，自交付时发生效力。
"""

OUTLINE = """# 青溪县国民经济和社会发展第十五个五年规划纲要（草案）
## 第一篇 发展基础
### 第一章 发展环境
#### 第一节 “十四五”时期取得的成就
“十四五”时期，全县地区生产总值年均增长百分之六。
#### 第二节 面临的形势
当前和今后一个时期，我县发展仍然处于重要战略机遇期。
## 第二篇 坚持创新驱动发展
一、强化科技创新平台建设
建设县级科技创新服务中心。
（一）支持企业研发机构建设
对新认定的省级研发机构给予奖励。
"""


def test_chinese_numerals_read_as_numbers():
    assert [chinese_number(n) for n in ("一", "十", "十二", "二十", "二十三", "一百零五", "二百一十", "一千二百六十",
                                        "两百", "12")] == [1, 10, 12, 20, 23, 105, 210, 1260, 200, 12]
    with pytest.raises(ValueError):
        chinese_number("甲")


def test_a_law_with_parts_subparts_chapters_and_sections():
    draft = parse_text(LAW)
    assert draft.title == "中华人民共和国示例法（草案）"
    kinds = [(p.kind, p.label) for p in draft.provisions]
    assert kinds == [("part", "第一编"), ("chapter", "第一章"), ("article", "第一条"), ("article", "第二条"),
                     ("part", "第二编"), ("subpart", "第一分编"), ("chapter", "第一章"), ("section", "第一节"),
                     ("article", "第二百零九条"), ("article", "第二百一十条"), ("section", "第二节"),
                     ("article", "第二百二十四条")]
    articles = draft.articles
    assert [a.number for a in articles] == [1, 2, 209, 210, 224]
    assert articles[2].within == "第二编 物权 / 第一分编 通则 / 第一章 一般规定 / 第一节 不动产登记"
    assert articles[0].within == "第一编 总则 / 第一章 基本规定"
    # 款: one paragraph each; 项: the （一） lines within
    assert articles[2].paragraphs == ["不动产物权的设立，经依法登记，发生效力。", "依法属于国家所有的自然资源，所有权可以不登记。"]
    assert articles[3].paragraphs[1:] == ["（一）权属证明；", "（二）不动产界址、面积等必要材料。"]
    assert articles[4].heading == "交付" and articles[4].text == "动产物权的设立和转让，自交付时发生效力。"
    # A section under the second chapter is not inside the first section
    assert articles[4].within.endswith("第一章 一般规定 / 第二节 动产交付")
    assert not any(p.commentable for p in draft.provisions if p.kind != "article")


def test_a_plan_outline_comments_on_its_headings_with_prose():
    draft = parse_text(OUTLINE)
    assert draft.title.startswith("青溪县国民经济和社会发展第十五个五年规划纲要")
    units = [(p.kind, p.label, p.heading) for p in draft.articles]
    assert units == [("section", "第一节", "“十四五”时期取得的成就"), ("section", "第二节", "面临的形势"),
                     ("heading", "一、", "强化科技创新平台建设"), ("heading", "（一）", "支持企业研发机构建设")]
    assert [p.kind for p in draft.provisions if not p.commentable] == ["part", "chapter", "part"]
    assert draft.articles[3].within == "第二篇 坚持创新驱动发展 / 一、 强化科技创新平台建设"
    assert draft.articles[0].text == "“十四五”时期，全县地区生产总值年均增长百分之六。"


def test_in_a_law_numbered_lines_are_items_not_headings():
    draft = parse_text("第一条 下列事项应当公开：\n一、收费标准；\n（一）减免政策；\n第二条 本办法自发布之日起施行。")
    assert [a.label for a in draft.articles] == ["第一条", "第二条"]
    assert draft.articles[0].paragraphs == ["下列事项应当公开：", "一、收费标准；", "（一）减免政策；"]


def test_an_outline_line_that_is_a_sentence_is_prose_not_a_heading():
    draft = parse_text("第一章 总体要求\n一、坚持以人民为中心，把增进民生福祉作为发展的根本目的。\n（一）重点任务")
    assert [p.kind for p in draft.provisions] == ["chapter", "heading"]
    assert draft.provisions[0].paragraphs == ["一、坚持以人民为中心，把增进民生福祉作为发展的根本目的。"]


def test_markdown_marks_and_a_preamble_are_read():
    draft = parse_text("# 示例条例（征求意见稿）\n\n（2026年12月1日起征求意见）\n\n## 第一章 总则\n\n"
                       "**第一条** 为了规范管理，制定本条例。\n\n> 第二条 本条例适用于全县。\n")
    assert draft.title == "示例条例（征求意见稿）"
    assert draft.provisions[0].kind == "preamble"
    assert [(a.label, a.text) for a in draft.articles] == [("第一条", "为了规范管理，制定本条例。"),
                                                          ("第二条", "本条例适用于全县。")]


def test_a_docx_with_word_heading_styles():
    document = docx.Document()
    document.add_heading("示例办法（草案）", level=0)
    document.add_heading("第一章 总则", level=1)
    document.add_paragraph("第一条　为了规范管理，制定本办法。")
    document.add_paragraph("第二条　本办法适用于下列单位：")
    document.add_paragraph("（一）学校；")
    buffer = io.BytesIO()
    document.save(buffer)
    draft = parse_file("办法.docx", buffer.getvalue())
    assert draft.title == "示例办法（草案）"
    assert [p.label for p in draft.provisions] == ["第一章", "第一条", "第二条"]
    assert draft.articles[1].paragraphs == ["本办法适用于下列单位：", "（一）学校；"]


@pytest.mark.parametrize("name, data", [("notes.txt", "只是一段话，没有条文。".encode()),
                                        ("draft.docx", b"not a zip file"),
                                        ("draft.md", "第一条 文本".encode("gb18030"))])
def test_what_is_not_a_draft_is_refused(name, data):
    with pytest.raises(DraftUnreadable):
        parse_file(name, data)


def test_a_draft_in_traditional_characters():
    draft = parse_text("第一編 總則\n第一章 一般規定\n第一節 適用範圍\n第十二條 本條例適用於全縣。\n第二十條 兩款規定。")
    assert [(p.kind, p.number) for p in draft.provisions] == [("part", 1), ("chapter", 1), ("section", 1),
                                                             ("article", 12), ("article", 20)]
    assert draft.articles[0].text == "本條例適用於全縣。"


def test_a_paragraph_citing_another_article_does_not_start_one():
    draft = parse_text("第四十五条 当事人可以申请复议。\n第三十条规定的期限届满后，不得再申请。\n第四十六条本条例自公布之日起施行。")
    assert [a.label for a in draft.articles] == ["第四十五条", "第四十六条"]
    assert draft.articles[0].paragraphs == ["当事人可以申请复议。", "第三十条规定的期限届满后，不得再申请。"]
    assert draft.articles[1].text == "本条例自公布之日起施行。"
