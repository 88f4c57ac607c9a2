"""The portal's pages, one module per kind of person: who signs in, members, clients, staff, and
the loans of members and staff."""

from portal.pages.auth import AuthPages
from portal.pages.client import ClientPages
from portal.pages.loans import MemberLoanPages, StaffLoanPages
from portal.pages.member import MemberPages
from portal.pages.staff import StaffPages

PAGES = [AuthPages, MemberPages, MemberLoanPages, ClientPages, StaffPages, StaffLoanPages]
