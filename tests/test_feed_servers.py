"""DELETE /feed/servers/<name>: forget a decommissioned server now (admin rate limit)."""
from feeds.windows import read_windows, team_stats
from tests.factories import make_batch


def test_it_forgets_one_server_and_its_points(client, team_a):
    client.post("/feed/data", {"records": make_batch(3)}, format="json", **team_a.headers)
    response = client.delete("/feed/servers/ppdb002", **team_a.headers)
    assert response.status_code == 200
    assert response.json() == {"status": "forgotten", "server_name": "ppdb002", "points_removed": 1}
    assert set(read_windows(team_a.team.id).windows) == {"ppdb001", "ppdb003"}
    assert (team_stats(team_a.team.id).points, team_stats(team_a.team.id).servers) == (2, 2)


def test_an_unknown_server_is_a_404(client, team_a):
    response = client.delete("/feed/servers/ghost", **team_a.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "No server 'ghost' in this team's windows or history"}


def test_a_team_cannot_forget_another_teams_server(client, team_a, team_b):
    client.post("/feed/data", {"records": make_batch(1)}, format="json", **team_a.headers)
    assert client.delete("/feed/servers/ppdb001", **team_b.headers).status_code == 404
    assert team_stats(team_a.team.id).points == 1


def test_it_needs_a_key(client, team_a):
    assert client.delete("/feed/servers/ppdb001").status_code == 401


def test_it_allows_10_a_minute_by_default(client, team_a):
    codes = [client.delete("/feed/servers/ghost", **team_a.headers).status_code for _ in range(11)]
    assert codes == [404] * 10 + [429]


def test_forgetting_a_server_drops_what_inference_keeps_of_it(client, team_a, redis_client):
    from core import keys
    from inference.seasonal import SeasonalState
    from inference.seasonal_state import save_states

    client.post("/feed/data", {"records": make_batch(2)}, format="json", **team_a.headers)
    save_states(team_a.team.id, ["ppdb001", "ppdb002"], [SeasonalState.new(), SeasonalState.new()])
    client.delete("/feed/servers/ppdb002", **team_a.headers)
    assert redis_client.exists(keys.team(team_a.team.id).seasonal("ppdb001"))
    assert not redis_client.exists(keys.team(team_a.team.id).seasonal("ppdb002"))
