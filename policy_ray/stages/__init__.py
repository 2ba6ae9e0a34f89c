"""Pipeline stages: plain typed classes that know nothing about Ray; actors wrap them."""
