"""Records (信用记录): penalties, misconduct, list entries and commendations, with history."""
