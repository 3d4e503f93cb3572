"""Test doubles and factories, shipped with the package so scenario tests and plugins can use them."""
