"""Pure extraction: HTML/text in, data out. No Scrapy, no SQL."""
