// Placeholder until the pages land: shows whether the session may read the API.
const app = document.getElementById('app');

async function main() {
  const answer = await fetch('/api/v1/processes', {
    credentials: 'same-origin',
    headers: { 'X-Tend-Csrf': '1' },
  });
  if (answer.status === 401) {
    app.textContent = 'Not logged in — run `tend ui` for a login link';
    return;
  }
  const processes = await answer.json();
  app.textContent = `${processes.length} processes`;
}

main();
