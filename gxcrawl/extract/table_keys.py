# ruff: noqa: E501  (labels are data, as the template prints them)
"""The key vocabulary of the statistics tables: defined once, imported by the table parser, the
consistency checks, the wide views (migrations) and the data dictionary.

One scheme everywhere: a cell is (``table``, ``row_key``, ``column_key``) in ``report_facts``
and ``<row_key with dots as underscores>__<column_key>`` in the wide views
(``result.partly_disclosed`` × ``ngo`` → ``result_partly_disclosed__ngo``); names stay under
PostgreSQL's 63-character identifier limit.
"""

from __future__ import annotations

# 第二十条 tables (section 二): rows per table, key → label as the template prints it (gb2021
# prints 行政规范性文件 where gb2019 prints 规范性文件).
ART20_ROWS: dict[str, dict[str, str]] = {
    "art20_1": {"rules": "规章", "normative": "规范性文件"},
    "art20_5": {"licensing": "行政许可", "other_services": "其他对外管理服务事项"},
    "art20_6": {"penalty": "行政处罚", "enforcement": "行政强制"},
    "art20_8": {"fees": "行政事业性收费"},
    "art20_9": {"central_procurement": "政府集中采购"},
}
# Their columns: template → table → key → label as printed (第（九）项 is gb2019 only).
_ART20_LICENSING_2019 = {
    "prev_count": "上一年项目数量",
    "change": "本年增/减",
    "decisions": "处理决定数量",
}
_ART20_LICENSING_2021 = {"decisions": "本年处理决定数量"}
ART20_COLUMNS: dict[str, dict[str, dict[str, str]]] = {
    "gb2019": {
        "art20_1": {
            "new_made": "本年新制作数量",
            "new_published": "本年新公开数量",
            "total_published": "对外公开总数量",
        },
        "art20_5": _ART20_LICENSING_2019,
        "art20_6": _ART20_LICENSING_2019,
        "art20_8": {"prev_count": "上一年项目数量", "change": "本年增/减"},
        "art20_9": {"procurement_count": "采购项目数量", "procurement_amount": "采购总金额"},
    },
    "gb2021": {
        "art20_1": {
            "issued": "本年制发件数",
            "repealed": "本年废止件数",
            "in_force": "现行有效件数",
        },
        "art20_5": _ART20_LICENSING_2021,
        "art20_6": _ART20_LICENSING_2021,
        "art20_8": {"fee_amount": "本年收费金额（单位：万元）"},
    },
}

# Application table (section 三): applicant columns, key → label as the template prints it.
APPLICATION_COLUMNS: dict[str, str] = {
    "person": "自然人",
    "business": "法人或其他组织/商业企业",
    "research": "法人或其他组织/科研机构",
    "ngo": "法人或其他组织/社会公益组织",
    "law_firm": "法人或其他组织/法律服务机构",
    "org_other": "法人或其他组织/其他",
    "total": "总计",
}

# Application table rows, key → label as printed (both national templates; `result.other` is
# one row in gb2019 and a group of three in gb2021).
APPLICATION_ROWS: dict[str, str] = {
    "new_received": "一、本年新收政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开申请数量",
    "result.disclosed": "三、本年度办理结果/（一）予以公开",
    "result.partly_disclosed": "三、本年度办理结果/（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "result.withheld.state_secret": "三、本年度办理结果/（三）不予公开/1.属于国家秘密",
    "result.withheld.law_prohibited": "三、本年度办理结果/（三）不予公开/2.其他法律行政法规禁止公开",
    "result.withheld.three_security": "三、本年度办理结果/（三）不予公开/3.危及“三安全一稳定”",
    "result.withheld.third_party": "三、本年度办理结果/（三）不予公开/4.保护第三方合法权益",
    "result.withheld.internal_affairs": "三、本年度办理结果/（三）不予公开/5.属于三类内部事务信息",
    "result.withheld.process_info": "三、本年度办理结果/（三）不予公开/6.属于四类过程性信息",
    "result.withheld.law_enforcement_file": "三、本年度办理结果/（三）不予公开/7.属于行政执法案卷",
    "result.withheld.administrative_query": "三、本年度办理结果/（三）不予公开/8.属于行政查询事项",
    "result.unavailable.not_held": "三、本年度办理结果/（四）无法提供/1.本机关不掌握相关政府信息",
    "result.unavailable.needs_creation": "三、本年度办理结果/（四）无法提供/2.没有现成信息需要另行制作",
    "result.unavailable.unclear_after_correction": "三、本年度办理结果/（四）无法提供/3.补正后申请内容仍不明确",
    "result.not_processed.petition_complaint": "三、本年度办理结果/（五）不予处理/1.信访举报投诉类申请",
    "result.not_processed.repeated": "三、本年度办理结果/（五）不予处理/2.重复申请",
    "result.not_processed.publication": "三、本年度办理结果/（五）不予处理/3.要求提供公开出版物",
    "result.not_processed.excessive": "三、本年度办理结果/（五）不予处理/4.无正当理由大量反复申请",
    "result.not_processed.confirmation": "三、本年度办理结果/（五）不予处理/5.要求行政机关确认或重新出具已获取信息",
    "result.other": "三、本年度办理结果/（六）其他处理",
    "result.other.overdue_correction": "三、本年度办理结果/（六）其他处理/1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "result.other.overdue_fee": "三、本年度办理结果/（六）其他处理/2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "result.other.other": "三、本年度办理结果/（六）其他处理/3.其他",
    "result.total": "三、本年度办理结果/（七）总计",
    "carry_forward": "四、结转下年度继续办理",
}

# Appeals table (section 四): one data row `cases`; columns <group>.<result>.
APPEAL_GROUPS: dict[str, str] = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼/未经复议直接起诉",
    "litigation_after_review": "行政诉讼/复议后起诉",
}
APPEAL_RESULTS: dict[str, str] = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}
APPEAL_COLUMNS: dict[str, str] = {
    f"{g}.{r}": f"{glabel}/{rlabel}"
    for g, glabel in APPEAL_GROUPS.items()
    for r, rlabel in APPEAL_RESULTS.items()
}


def wide_column(row_key: str, column_key: str) -> str:
    """The wide-view column name of a cell: `result.partly_disclosed`, `ngo` →
    `result_partly_disclosed__ngo`."""
    return f"{row_key.replace('.', '_')}__{column_key.replace('.', '_')}"
