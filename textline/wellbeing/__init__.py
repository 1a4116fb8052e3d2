"""Care for the volunteers: pauses after hard conversations and on request, shift limits, the check-out
at a shift's end with debriefs for the adults, and the adults' volunteers panel (README, "Volunteer
wellbeing")."""
