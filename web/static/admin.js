// Admin page: horde modes and invites (moderators and admins).

import { api, show, copyText } from './api.js';
import { ready, refreshModes } from './nav.js';

const $ = (id) => document.getElementById(id);

let loaded = {};

async function loadModes() {
  try {
    const m = await api.get('/api/v2/status/modes');
    loaded = { maintenance: !!m.maintenance_mode, invite_only: !!m.invite_only_mode, raid: !!m.raid_mode, msg: m.maintenance_msg || '' };
    $('mode-maintenance').checked = !!m.maintenance_mode;
    $('mode-invite').checked = !!m.invite_only_mode;
    $('mode-raid').checked = !!m.raid_mode;
    if (typeof m.maintenance_msg === 'string') $('mode-maintenance-msg').value = m.maintenance_msg;
  } catch (err) {
    show($('modes-msg'), err.message, 'error');
  }
}

function wireModes() {
  $('modes-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('modes-save').disabled = true;
    try {
      // Only what changed: maintenance needs an admin, the other modes a moderator.
      const body = {};
      const want = {
        maintenance: $('mode-maintenance').checked,
        invite_only: $('mode-invite').checked,
        raid: $('mode-raid').checked,
      };
      for (const k of Object.keys(want)) if (want[k] !== loaded[k]) body[k] = want[k];
      const msg = $('mode-maintenance-msg').value.trim();
      if (msg !== loaded.msg) {
        body.maintenance_msg = msg;
        if (body.maintenance === undefined) body.maintenance = want.maintenance;
      }
      if (Object.keys(body).length === 0) {
        show($('modes-msg'), 'Nothing changed.', 'info');
        return;
      }
      await api.put('/api/v2/status/modes', body);
      show($('modes-msg'), 'Saved.', 'ok');
      await loadModes();
      await refreshModes();
    } catch (err) {
      show($('modes-msg'), err.message, 'error');
    } finally {
      $('modes-save').disabled = false;
    }
  });
}

function wireInvites() {
  $('invite-name-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = $('invite-name').value.trim();
    const box = $('invite-name-msg');
    if (!username) {
      show(box, 'Enter the user as name#id.', 'error');
      return;
    }
    $('invite-name-send').disabled = true;
    try {
      await api.post('/api/web/invites', { username });
      show(box, `${username} is invited.`, 'ok');
      $('invite-name').value = '';
    } catch (err) {
      show(box, err.message, 'error');
    } finally {
      $('invite-name-send').disabled = false;
    }
  });
  $('invite-link-make').addEventListener('click', async () => {
    $('invite-link-make').disabled = true;
    try {
      const out = await api.post('/api/web/invites', {});
      const url = out.url || `${location.origin}/invite/${out.token}`;
      $('invite-link').textContent = url;
      $('invite-link-out').hidden = false;
      show($('invite-link-msg'), '');
    } catch (err) {
      show($('invite-link-msg'), err.message, 'error');
    } finally {
      $('invite-link-make').disabled = false;
    }
  });
  $('invite-link-copy').addEventListener('click', async () => {
    const ok = await copyText($('invite-link').textContent, $('invite-link'));
    $('invite-link-copied').textContent = ok ? 'Copied.' : 'Select the link and copy it by hand.';
  });
}

ready.then((s) => {
  if (!s.logged_in || !s.user) {
    $('not-allowed').hidden = false;
    $('not-allowed-text').innerHTML = '';
    $('not-allowed-text').append('This page is for the horde’s moderators and admins. ');
    const a = document.createElement('a');
    a.href = '/login?return_to=/admin';
    a.textContent = 'Log in';
    $('not-allowed-text').append(a, '.');
    return;
  }
  if (!s.user.moderator) {
    $('not-allowed').hidden = false;
    return;
  }
  $('admin').hidden = false;
  loadModes();
  wireModes();
  wireInvites();
});
