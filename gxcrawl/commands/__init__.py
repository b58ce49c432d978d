"""Custom `scrapy <command>`s (COMMANDS_MODULE): extract, reparse, export, portals, summary."""
