// Invite page (/invite/{token}): the logged-in user accepts the invite.

import { api, getSession, show } from './api.js';
import { ready } from './nav.js';

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.replace(/^\/invite\/?/, '').replace(/\/+$/, ''));

ready.then((s) => {
  if (!token) {
    show($('invite-msg'), 'This invitation link is incomplete. Ask for a new one.', 'error');
    return;
  }
  if (!s.logged_in || !s.user) {
    $('invite-login').hidden = false;
    $('invite-login-link').href = `/login?return_to=${encodeURIComponent(location.pathname)}`;
    return;
  }
  $('invite-accept').hidden = false;
  $('invite-user').textContent = s.user.username;
  $('accept').addEventListener('click', async () => {
    $('accept').disabled = true;
    try {
      await api.post(`/api/web/invites/${encodeURIComponent(token)}/accept`, {});
      await getSession(true);
      $('invite-accept').hidden = true;
      show($('invite-msg'), 'Done: you may now run workers on this horde. See “Join as a worker” on the home page.', 'ok');
    } catch (err) {
      show($('invite-msg'), err.message, 'error');
      $('accept').disabled = false;
    }
  });
});
