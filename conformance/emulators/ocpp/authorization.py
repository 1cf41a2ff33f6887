"""Authorization at the station emulator: C01 (RFID), C02 (start button), C04 (PIN,
idToken type KeyCode), with the Authorization Cache (C10/C12) and the Local
Authorization List (C13/C14, filled by SendLocalList, D01).

A presented idToken at an EVSE:

1. equal (C01.FR.25: idToken, case-insensitive, and type) to the one that started the
   authorization there, or valid in list/cache with the same groupIdToken, ends that
   authorization without an AuthorizeRequest (C01.FR.03, E07.FR.01);
2. a different idToken while the EVSE is authorized is refused (C01.FR.23);
3. otherwise it is looked up: the Local Authorization List first (C13.FR.01), then the
   cache (AuthCacheCtrlr.Enabled, C10.FR.11; entries expire after
   AuthCacheCtrlr.LifeTime since last use or at cacheExpiryDateTime, C10.FR.08/10/13).
   Online, an Accepted entry authorizes locally only with LocalPreAuthorize (C12,
   C14.FR.02), anything else is asked with AuthorizeRequest (C01.FR.02, C10.FR.03,
   C14.FR.03).  Offline, Accepted entries authorize with LocalAuthorizeOffline
   (C13); unknown idTokens only with OfflineTxForUnknownIdEnabled (C15.FR.08), and
   are then not cached (C15.FR.01).
4. AuthorizeResponse updates the cache (C10.FR.04) and authorizes when Accepted and
   the EVSE is in idTokenInfo.evseId (or that list is absent) (C01.FR.21).

The start button authorizes with idToken "" of type NoAuthorization (C02.FR.01),
never asks the CSMS and never caches (C02.FR.03).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.emulators.ocpp.station import OcppStationEmulator

NO_AUTHORIZATION = "NoAuthorization"
#: idToken types never cached (C02.FR.03; Central: CSMS-generated, C05 remark)
NOT_CACHED = (NO_AUTHORIZATION, "Central")


def token_key(token: dict[str, Any]) -> tuple[str, str]:
    """C01.FR.25: idToken (case-insensitive) and type; additionalInfo is ignored."""
    return str(token.get("idToken", "")).casefold(), str(token.get("type", ""))


def group_of(info: dict[str, Any] | None) -> tuple[str, str] | None:
    group = (info or {}).get("groupIdToken")
    return token_key(group) if isinstance(group, dict) else None


def _bare(token: dict[str, Any]) -> dict[str, Any]:
    """C10.FR.14: the stored token without additionalInfo."""
    return {"idToken": token.get("idToken", ""), "type": token.get("type", "")}


@dataclass
class Grant:
    """An authorization at an EVSE."""

    token: dict[str, Any]
    info: dict[str, Any] | None = None
    how: str = "csms"  # csms | cache | list | offline | button | remote
    remote_start_id: int | None = None
    trigger: str = "Authorized"

    @property
    def group(self) -> tuple[str, str] | None:
        return group_of(self.info)


@dataclass
class CacheEntry:
    token: dict[str, Any]
    info: dict[str, Any]
    used: float = 0.0  # emulated time of the last update or use
    extra: dict[str, Any] = field(default_factory=dict)


class Authorizer:
    def __init__(self, station: OcppStationEmulator) -> None:
        self.st = station
        self.cache: dict[tuple[str, str], CacheEntry] = {}
        self.local_list: dict[tuple[str, str], CacheEntry] = {}
        self.list_version = 0
        self.last: dict[str, Any] = {}

    def clear(self) -> None:
        self.cache.clear()
        self.local_list.clear()
        self.list_version = 0
        self._sync_entries()
        self.last = {}

    # ------------------------------------------------------------ stores
    def cache_update(self, token: dict[str, Any], info: dict[str, Any]) -> None:
        """C10.FR.04/05: store the latest idTokenInfo (C10.FR.01: whatever its status)."""
        if token.get("type") in NOT_CACHED or not self.st.dm.bool("AuthCacheCtrlr", "Enabled"):
            return
        if self._expired_at(info):
            self.cache.pop(token_key(token), None)  # C10 note: an expiry in the past
            return
        stored = {k: v for k, v in info.items() if k != "customData"}
        if isinstance(stored.get("groupIdToken"), dict):
            stored["groupIdToken"] = _bare(stored["groupIdToken"])  # C10.FR.14
        self.cache[token_key(token)] = CacheEntry(_bare(token), stored, self.st.clock.now())

    def _expired_at(self, info: dict[str, Any]) -> bool:
        text = info.get("cacheExpiryDateTime")
        if not isinstance(text, str):
            return False
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return False
        if moment.tzinfo is None:
            return False
        return moment <= self.st.wall_now()

    def _from_cache(self, token: dict[str, Any]) -> CacheEntry | None:
        if not self.st.dm.bool("AuthCacheCtrlr", "Enabled"):  # C10.FR.11
            return None
        key = token_key(token)
        entry = self.cache.get(key)
        if entry is None:
            return None
        lifetime = self.st._int("AuthCacheCtrlr", "LifeTime", 86400)
        too_old = lifetime > 0 and self.st.clock.now() - entry.used > lifetime  # C10.FR.10
        if too_old or self._expired_at(entry.info):  # C10.FR.13
            del self.cache[key]
            return None
        return entry

    def _from_list(self, token: dict[str, Any]) -> CacheEntry | None:
        if not self.st.dm.bool("LocalAuthListCtrlr", "Enabled"):
            return None
        entry = self.local_list.get(token_key(token))
        if entry is None:
            return None
        expiring = self.st.dm.bool("LocalAuthListCtrlr", "SupportsExpiryDateTime")
        if expiring and self._expired_at(entry.info):  # C14.FR.05
            return None
        return entry

    def lookup(self, token: dict[str, Any]) -> CacheEntry | None:
        """C13.FR.01: the list before the cache."""
        return self._from_list(token) or self._from_cache(token)

    def send_local_list(self, version: int, update: str, entries: list[dict[str, Any]]) -> str:
        """SendLocalListRequest (D01): Accepted, Failed or VersionMismatch."""
        if not self.st.dm.bool("LocalAuthListCtrlr", "Enabled"):
            return "Failed"
        if update == "Differential" and version <= self.list_version:
            return "VersionMismatch"
        new = {} if update == "Full" else dict(self.local_list)
        for item in entries:
            token = item.get("idToken") or {}
            info = item.get("idTokenInfo")
            if info is None:
                new.pop(token_key(token), None)  # Differential without info: remove
            else:
                new[token_key(token)] = CacheEntry(_bare(token), dict(info))
        limit = 1000
        with_limit = self.st.dm.definition("LocalAuthListCtrlr", "Entries").max
        if with_limit is not None:
            limit = int(with_limit)
        if len(new) > limit:
            return "Failed"
        self.local_list = new
        self.list_version = version
        self._sync_entries()
        return "Accepted"

    def _sync_entries(self) -> None:
        dm = self.st.dm
        if dm.has("LocalAuthListCtrlr", "Entries"):
            dm.set("LocalAuthListCtrlr", "Entries", str(len(self.local_list)), notify=False)

    # ------------------------------------------------------------ presenting
    def same_group(self, token: dict[str, Any], grant: Grant) -> bool:
        """C01.FR.03(b): valid in list or cache with the authorizing token's group."""
        if grant.group is None or self.st.fault("group_stop_refused"):
            return False
        entry = self.lookup(token)
        return (
            entry is not None
            and entry.info.get("status") == "Accepted"
            and group_of(entry.info) == grant.group
        )

    def present(self, evse: int, token: dict[str, Any]) -> dict[str, Any]:
        """An idToken presented at *evse* (control API)."""
        st = self.st
        ev = st.tx.evses[evse]
        grant = ev.grant
        if grant is not None:
            if token_key(token) == token_key(grant.token) or self.same_group(token, grant):
                if st.fault("authorize_on_stop"):
                    st.send("Authorize", {"idToken": _bare(token)})  # breaks C01.FR.03
                return st.tx.stop_authorization(evse, token)
            if not st.fault("different_token_allowed"):
                return self._other_token(evse, token, grant)
        if ev.held is not None:
            owner = ev.held
            if token_key(token) == token_key(owner):
                return st.tx.release_cable(evse, token)
            return {"result": "refused", "reason": "the cable is held for its owner"}
        if ev.spent:
            return {"result": "refused", "reason": "unplug the EV first"}
        if not st.may_charge():
            return {"result": "refused", "reason": "not Accepted by the CSMS yet"}
        if not st.avail.operative(evse):
            return {"result": "refused", "reason": "EVSE is Unavailable"}
        return self._authorize(evse, token)

    def _other_token(self, evse: int, token: dict[str, Any], grant: Grant) -> dict[str, Any]:
        """C01.FR.23: another idToken never joins the authorization; unknown locally it
        is still asked for (C01.FR.02), and an Accepted answer naming the same group
        ends the authorization (C01.FR.03, E07.FR.01)."""
        st = self.st
        if self.lookup(token) is not None or not st.reportable:
            return {"result": "refused", "reason": "another idToken is authorized here"}

        def answered(answer: dict[str, Any]) -> None:
            info = answer.get("idTokenInfo") or {}
            self.cache_update(token, info)  # C10.FR.04
            ev = st.tx.evses[evse]
            if ev.grant is not grant or info.get("status") != "Accepted":
                return
            same_group = grant.group is not None and group_of(info) == grant.group
            if same_group and not st.fault("group_stop_refused"):
                st.tx.stop_authorization(evse, token)

        st.send("Authorize", {"idToken": _bare(token)}, on_result=answered)
        return {"result": "authorizing", "reason": "another idToken is authorized here"}

    def start_button(self, evse: int) -> dict[str, Any]:
        """C02: the start button."""
        st = self.st
        ev = st.tx.evses[evse]
        if ev.grant is not None or ev.spent or ev.held is not None:
            return {"result": "refused", "reason": "EVSE busy"}
        if not st.may_charge() or not st.avail.operative(evse):
            return {"result": "refused", "reason": "charging not possible now"}
        value = "button" if st.fault("start_button_wrong_token") else ""  # C02.FR.01
        if st.fault("authorize_start_button"):  # breaks C01.FR.04 (C02: no authorization)
            st.send("Authorize", {"idToken": {"idToken": value, "type": NO_AUTHORIZATION}})
        return st.tx.authorized(
            evse, Grant({"idToken": value, "type": NO_AUTHORIZATION}, how="button")
        )

    def _authorize(self, evse: int, token: dict[str, Any]) -> dict[str, Any]:
        st = self.st
        online = st.reportable
        entry = self.lookup(token)
        accepted = entry is not None and entry.info.get("status") == "Accepted"
        in_list = entry is not None and token_key(token) in self.local_list
        how = "list" if in_list else "cache"
        if online:
            if accepted and st.dm.bool("AuthCtrlr", "LocalPreAuthorize"):
                assert entry is not None
                entry.used = st.clock.now()
                return self._grant(evse, token, entry.info, how)  # C12.FR.02, C14.FR.02
            if st.fault("no_authorize"):
                return self._grant(evse, token, None, "local")  # breaks C01.FR.02
            self.last = {"evse": evse, "idToken": token.get("idToken"), "status": "pending"}
            st.send(
                "Authorize",
                {"idToken": _bare(token)},
                on_result=lambda answer: self._answered(evse, token, answer),
                on_failure=lambda reason: self._no_answer(evse, token, reason),
            )
            return {"result": "authorizing"}
        if accepted and st.dm.bool("AuthCtrlr", "LocalAuthorizeOffline"):  # C13
            assert entry is not None
            entry.used = st.clock.now()
            return self._grant(evse, token, entry.info, how)
        if entry is None and st.dm.bool("AuthCtrlr", "OfflineTxForUnknownIdEnabled"):
            return self._grant(evse, token, None, "offline")  # C15.FR.08, not cached
        return {"result": "rejected", "reason": "offline and not authorized locally"}

    def _grant(
        self, evse: int, token: dict[str, Any], info: dict[str, Any] | None, how: str
    ) -> dict[str, Any]:
        return self.st.tx.authorized(evse, Grant(_bare(token), info, how))

    def _answered(self, evse: int, token: dict[str, Any], answer: dict[str, Any]) -> None:
        st = self.st
        info = answer.get("idTokenInfo") or {}
        self.cache_update(token, info)  # C10.FR.04
        status = info.get("status")
        allowed = info.get("evseId")
        ok = status == "Accepted" or st.fault("ignores_authorize_status")
        if ok and allowed and evse not in allowed and not st.fault("ignores_evse_list"):
            ok = False  # C01.FR.21
        self.last = {"evse": evse, "idToken": token.get("idToken"), "status": status}
        ev = st.tx.evses[evse]
        taken = ev.grant is not None and not st.fault("different_token_allowed")
        if not ok or taken or ev.spent or not st.may_charge():
            return
        self.last["result"] = st.tx.authorized(evse, Grant(_bare(token), info, "csms"))

    def _no_answer(self, evse: int, token: dict[str, Any], reason: str) -> None:
        self.last = {"evse": evse, "idToken": token.get("idToken"), "status": f"failed: {reason}"}
