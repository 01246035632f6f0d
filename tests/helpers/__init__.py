from tests.helpers.browser import Browser, Page

__all__ = ["Browser", "Page"]
